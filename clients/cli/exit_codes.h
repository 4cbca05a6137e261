// labctl's exit codes and how errors map onto them:
//   0 success; 1 local failure (files, terminal); 2 usage error (bad flags or arguments, and
//   what the gateway refused because of what the command named: INVALID_ARGUMENT, NOT_FOUND,
//   ALREADY_EXISTS, FAILED_PRECONDITION, OUT_OF_RANGE -- an unknown machine type, a workspace
//   that does not exist, storage still in use); 3 auth error (not logged in, session expired,
//   not allowed: UNAUTHENTICATED / PERMISSION_DENIED); 4 server error (anything else: an
//   unreachable or failing gateway or cluster, no free slot in time, a timeout).
// Free functions; stateless; thread-safe.
#ifndef LABKUBE_CLIENTS_CLI_EXIT_CODES_H_
#define LABKUBE_CLIENTS_CLI_EXIT_CODES_H_

#include <string_view>

#include "absl/status/status.h"

namespace labkube::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitLocal = 1,
  kExitUsage = 2,
  kExitAuth = 3,
  kExitServer = 4,
};

// A failure of labctl itself (a file it cannot write, no terminal): exit code 1.
absl::Status LocalError(std::string_view message);
// A mistake on the command line found before calling the gateway: exit code 2.
absl::Status UsageError(std::string_view message);

int ExitCodeFor(const absl::Status& status);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_EXIT_CODES_H_
