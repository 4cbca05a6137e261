// The end of every service's main(): flags -> Options -> Server::Create -> RunUntilSignal.
//
//   int main(int argc, char** argv) {
//     labkube::PrepareServiceProcess();
//     absl::ParseCommandLine(argc, argv);
//     return labkube::service::RunUntilSignal("labkube-gateway", Server::Create(OptionsFromFlags()),
//                                             absl::Seconds(5));
//   }
//
// A failed Create is printed on stderr ("labkube-gateway: INVALID_ARGUMENT: ...") and exits 1;
// otherwise it waits for SIGTERM or SIGINT (lib/signals.h: PrepareServiceProcess must have run
// first) and stops the server gracefully: `stop(server)`, or Server::Shutdown(now + grace).
// Call from main() only (it blocks until a signal).
#ifndef LABKUBE_LIB_SERVICE_RUN_H_
#define LABKUBE_LIB_SERVICE_RUN_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace labkube::service {

// Prints "<program>: <status>" on stderr; returns 1 (main's exit code).
int ReportStartFailure(std::string_view program, const absl::Status& status);
// lib/signals.h WaitForTerminationSignal, then one "signal" log line naming it.
void WaitForStopSignal(std::string_view program);

template <typename Server>
int RunUntilSignal(std::string_view program, absl::StatusOr<std::unique_ptr<Server>> server,
                   const std::function<void(Server&)>& stop) {
  if (!server.ok()) return ReportStartFailure(program, server.status());
  WaitForStopSignal(program);
  stop(**server);
  return 0;
}

template <typename Server>
int RunUntilSignal(std::string_view program, absl::StatusOr<std::unique_ptr<Server>> server,
                   absl::Duration grace) {
  return RunUntilSignal<Server>(program, std::move(server),
                                [grace](Server& s) { s.Shutdown(absl::Now() + grace); });
}

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_RUN_H_
