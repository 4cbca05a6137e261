// CallerIdentity: who is calling an admin method. The caller presents a Kubernetes bearer token
// (gRPC metadata `authorization: Bearer <token>`); a TokenVerifier asks the API server who it
// is (TokenReview), the ServiceAccount username system:serviceaccount:<prefix><x>:<x> maps to
// member <x>, and the member is an admin when that ServiceAccount carries
// labkube.io/admin=true (read live, so revoking the label takes effect at once).
//
// Ownership: borrows the verifier and client. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_CALLER_IDENTITY_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_CALLER_IDENTITY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"

namespace labkube::authenticator {

// Verifies a bearer token; returns the authenticated username or kUnauthenticated.
class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  virtual absl::StatusOr<std::string> Verify(std::string_view token) = 0;
};

// TokenVerifier through the TokenReview API: only tokens issued for one of `audiences`
// (labkube's login tokens name contract::kGatewayAudience; empty: the API server's own).
class TokenReviewVerifier : public TokenVerifier {
 public:
  TokenReviewVerifier(kube::Client& client, std::vector<std::string> audiences)
      : client_(client), audiences_(std::move(audiences)) {}
  absl::StatusOr<std::string> Verify(std::string_view token) override;

 private:
  kube::Client& client_;
  const std::vector<std::string> audiences_;
};

struct Caller {
  std::string username;  // as the API server knows it
  std::string member;    // "" when the token is not a member's
  bool admin = false;
};

class CallerIdentity {
 public:
  CallerIdentity(TokenVerifier& verifier, kube::Client& client, std::string namespace_prefix);

  // `authorization`: the metadata value ("Bearer <token>"). kUnauthenticated when missing,
  // malformed or rejected.
  absl::StatusOr<Caller> Identify(std::string_view authorization);
  // Identify(), then kPermissionDenied unless the caller is an admin.
  absl::StatusOr<Caller> RequireAdmin(std::string_view authorization);

 private:
  TokenVerifier& verifier_;
  kube::Client& client_;
  const std::string prefix_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_CALLER_IDENTITY_H_
