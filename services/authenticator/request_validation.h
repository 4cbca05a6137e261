// Request validation for the Authenticator gRPC API: every check names the offending proto
// field in a kInvalidArgument status ("username: not a DNS label ..."), before any work or any
// lockout bookkeeping happens. Limits keep hashing and storage bounded.
//
// Free functions, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_REQUEST_VALIDATION_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_REQUEST_VALIDATION_H_

#include "absl/status/status.h"
#include "labkube/auth/v1alpha1/authenticator.pb.h"

namespace labkube::authenticator {

namespace api = ::labkube::auth::v1alpha1;

inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMaxRefreshTokenBytes = 256;
inline constexpr int kMaxQuotaEntries = 32;

absl::Status Validate(const api::LoginRequest& r);
absl::Status Validate(const api::RefreshRequest& r);
absl::Status Validate(const api::LogoutRequest& r);
absl::Status Validate(const api::CreateMemberRequest& r);
absl::Status Validate(const api::DeleteMemberRequest& r);
absl::Status Validate(const api::SetPasswordRequest& r);
absl::Status Validate(const api::IssueKubeconfigRequest& r);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_REQUEST_VALIDATION_H_
