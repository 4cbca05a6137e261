// Runs the fuzz entry (admission_fuzzer.cc) once on every seed file under
// services/injector/testdata, as a normal test: it keeps the fuzzer building with the project's
// toolchain and its invariants holding for the seeds. Fuzzing itself: tools/fuzz_injector.sh.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main() {
  int files = 0;
  for (const char* dir :
       {"services/injector/testdata/admission", "services/injector/testdata/bad"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      std::string input = buffer.str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++files;
    }
  }
  std::cout << "replayed " << files << " seed files\n";
  return files > 0 ? 0 : 1;
}
