// labkube gateway: flags -> Options -> Server::Create -> wait for SIGTERM.
#include "absl/flags/parse.h"
#include "lib/service/run.h"
#include "lib/signals.h"
#include "services/gateway/flags.h"
#include "services/gateway/server.h"

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  return labkube::service::RunUntilSignal(
      "labkube-gateway", labkube::gateway::Server::Create(labkube::gateway::OptionsFromFlags()),
      absl::Seconds(5));
}
