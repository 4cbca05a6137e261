#include "clients/cli/exit_codes.h"

#include "absl/strings/cord.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"

namespace labkube::cli {

absl::Status LocalError(std::string_view message) {
  absl::Status s = absl::InternalError(ToAbsl(message));
  s.SetPayload(contract::kLocalErrorPayload, absl::Cord("1"));
  return s;
}

absl::Status UsageError(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(message));
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (status.GetPayload(contract::kLocalErrorPayload).has_value()) return kExitLocal;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    default:
      return kExitServer;
  }
}

}  // namespace labkube::cli
