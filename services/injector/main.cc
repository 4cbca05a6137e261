// labkube injector: flags -> Options -> Server::Create -> wait for SIGTERM, then drain.
#include "absl/flags/parse.h"
#include "lib/service/run.h"
#include "lib/signals.h"
#include "services/injector/flags.h"
#include "services/injector/server.h"

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  const absl::Duration delay = labkube::injector::ShutdownDelayFromFlags();
  return labkube::service::RunUntilSignal<labkube::injector::Server>(
      "labkube-injector", labkube::injector::Server::Create(labkube::injector::OptionsFromFlags()),
      [delay](labkube::injector::Server& server) { server.DrainAndShutdown(delay); });
}
