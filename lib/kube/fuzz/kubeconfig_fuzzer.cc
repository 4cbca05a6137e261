// libFuzzer entry for kubeconfig loading (config.h): LoadKubeconfig takes a path, so each input
// is written to one file in a private temporary directory (the same path for the whole process)
// and loaded from there. That directory also holds a CA, a client certificate and key and a
// token file, so relative certificate-authority / client-certificate / client-key / tokenFile
// paths in the input resolve to real files. A first line "#context: <name>" (a YAML comment)
// picks the context to load instead of current-context. These must hold:
//   - any input gives a config or an error, never a crash or an exception;
//   - every error starts with "kubeconfig <path>: ";
//   - a config has an http(s) server without a trailing slash, a client certificate exactly
//     when it has a key, and PEM wherever it has a certificate or key.
// config.h has no function that parses kubeconfig text without a file; LoadInCluster and
// LoadDefault only read environment variables and fixed files.
// Built and run outside Bazel by tools/fuzz.sh (target `kubeconfig`).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "lib/kube/config.h"

namespace labkube::kube {
namespace {

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size() > 4096 ? 4096 : input.size()), input.data());
  std::abort();
}

void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) {
    std::fprintf(stderr, "kubeconfig_fuzzer: cannot write %s\n", path.c_str());
    std::abort();
  }
}

// The directory of the fuzz input, made once per process and removed at exit.
const std::string& Dir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/labkube-kubeconfig-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("kubeconfig_fuzzer: mkdtemp");
      std::abort();
    }
    auto* d = new std::string(pattern);
    WriteFile(*d + "/ca.crt", "-----BEGIN CERTIFICATE-----\nCAAA\n-----END CERTIFICATE-----\n");
    WriteFile(*d + "/client.crt", "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n");
    WriteFile(*d + "/client.key", "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n");
    WriteFile(*d + "/not-pem", "just text\n");
    WriteFile(*d + "/token", "fuzz-token\n");
    std::atexit([] {
      for (const char* f : {"config", "ca.crt", "client.crt", "client.key", "not-pem", "token"}) {
        unlink((Dir() + "/" + f).c_str());
      }
      rmdir(Dir().c_str());
    });
    return d;
  }();
  return *dir;
}

bool IsPem(const std::string& s) { return s.find("-----BEGIN") != std::string::npos; }

}  // namespace
}  // namespace labkube::kube

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labkube::kube;  // NOLINT
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Whatever the kubeconfig names is read: keep the fuzzer away from device and kernel files
  // (/dev/zero would be read until memory runs out, /dev/stdin would block).
  for (std::string_view special : {"/dev", "/proc", "/sys"}) {
    if (input.find(special) != std::string_view::npos) return -1;
  }
  std::string context;
  constexpr std::string_view kContext = "#context: ";
  if (input.starts_with(kContext)) {
    size_t nl = input.find('\n');
    context = std::string(input.substr(kContext.size(), nl == std::string_view::npos
                                                            ? std::string_view::npos
                                                            : nl - kContext.size()));
  }
  const std::string path = Dir() + "/config";
  WriteFile(path, input);

  absl::StatusOr<ClusterConfig> config = LoadKubeconfig(path, context);
  if (!config.ok()) {
    if (!absl::StartsWith(config.status().message(), "kubeconfig " + path + ": ")) {
      Fail("error without the kubeconfig's path: " + config.status().ToString(), input);
    }
    return 0;
  }
  const ClusterConfig& c = *config;
  if (!absl::StartsWith(c.server, "https://") && !absl::StartsWith(c.server, "http://")) {
    Fail("server is not an http(s) URL: " + c.server, input);
  }
  if (c.server.size() > 8 && c.server.back() == '/') Fail("server ends with /: " + c.server, input);
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    Fail("a client certificate without a key, or a key without a certificate", input);
  }
  for (const std::string* pem : {&c.ca_pem, &c.client_cert_pem, &c.client_key_pem}) {
    if (!pem->empty() && !IsPem(*pem)) Fail("certificate or key is not PEM", input);
  }
  if (c.default_namespace.empty()) Fail("empty default namespace", input);
  return 0;
}
