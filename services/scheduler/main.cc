// labkube scheduler: flags -> Options -> Server::Create -> wait for SIGTERM.
#include "absl/flags/parse.h"
#include "lib/service/run.h"
#include "lib/signals.h"
#include "services/scheduler/flags.h"
#include "services/scheduler/server.h"

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  return labkube::service::RunUntilSignal(
      "labkube-scheduler", labkube::scheduler::Server::Create(labkube::scheduler::OptionsFromFlags()),
      absl::Seconds(5));
}
