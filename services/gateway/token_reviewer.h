// TokenReviewer: who presents a bearer token. KubeTokenReviewer asks the API server
// (TokenReview, for the gateway's audience only), maps the ServiceAccount username system:serviceaccount:<prefix>x:x to member
// x, reads that ServiceAccount's labels (labkube.io/user=x, labkube.io/admin=true for admins)
// and caches the answer for a short TTL (never past the token's own expiry), keyed by the
// token's SHA-256, so a burst of calls costs one review; calls that arrive while a token is
// being reviewed wait for that review instead of starting their own.
//
// Refusals say why: kUnauthenticated "token expired at ...: run `labctl login`" or "token
// rejected ...", kPermissionDenied "not allowed: ... is not a labkube member", kUnavailable
// when the API server cannot be asked.
//
// Ownership: borrows the client and clock. Thread safety: safe from many threads; no lock is
// held while the API server is asked.
#ifndef LABKUBE_SERVICES_GATEWAY_TOKEN_REVIEWER_H_
#define LABKUBE_SERVICES_GATEWAY_TOKEN_REVIEWER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/contract.h"
#include "lib/kube/client.h"

namespace labkube::gateway {

struct Caller {
  std::string username;  // as the API server knows it
  std::string member;
  std::string ns;  // the member's namespace
  bool admin = false;
};

class TokenReviewer {
 public:
  virtual ~TokenReviewer() = default;
  virtual absl::StatusOr<Caller> Review(std::string_view token) = 0;
};

struct TokenReviewOptions {
  std::string namespace_prefix = "lab-";
  absl::Duration ttl = absl::Seconds(10);
  size_t max_entries = 4096;
  // Only tokens issued for one of these (labkube's login tokens name kGatewayAudience; a pod's
  // ServiceAccount token names only the API server and is refused).
  std::vector<std::string> audiences = {contract::kGatewayAudience};
};

class KubeTokenReviewer : public TokenReviewer {
 public:
  KubeTokenReviewer(kube::Client& client, Clock& clock, TokenReviewOptions options = {});

  absl::StatusOr<Caller> Review(std::string_view token) override ABSL_LOCKS_EXCLUDED(mu_);

  // Cached answers (for tests and metrics).
  size_t CacheSize() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    Caller caller;
    absl::Time expires;
  };
  struct Flight {  // one review under way; its waiters get its result
    bool done = false;
    absl::StatusOr<Caller> result = absl::UnknownError("not reviewed");
  };

  absl::StatusOr<Caller> ReviewAndRemember(const std::string& key, std::string_view token);
  absl::StatusOr<Caller> ReviewUncached(std::string_view token);
  absl::StatusOr<Caller> MemberOf(const std::string& username);
  void Remember(const std::string& key, const Caller& caller, std::optional<absl::Time> token_exp)
      ABSL_LOCKS_EXCLUDED(mu_);

  kube::Client& client_;
  Clock& clock_;
  const TokenReviewOptions options_;
  absl::Mutex mu_;
  std::map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Flight>> pending_ ABSL_GUARDED_BY(mu_);
};

// The `exp` claim of a JWT, read without checking the signature (only to explain refusals and
// bound the cache); nullopt when `token` is not a JWT with a numeric exp.
std::optional<absl::Time> JwtExpiry(std::string_view token);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_TOKEN_REVIEWER_H_
