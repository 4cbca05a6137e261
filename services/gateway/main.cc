// labkube gateway: flags -> Options -> Server::Create -> wait for SIGTERM.
#include <cstdio>

#include "absl/flags/parse.h"
#include "lib/signals.h"
#include "services/gateway/flags.h"
#include "services/gateway/server.h"

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  auto server = labkube::gateway::Server::Create(labkube::gateway::OptionsFromFlags());
  if (!server.ok()) {
    std::fprintf(stderr, "labkube-gateway: %s\n", server.status().ToString().c_str());
    return 1;
  }
  labkube::WaitForTerminationSignal();
  (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  return 0;
}
