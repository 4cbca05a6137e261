// TokenIssuer: short-lived ServiceAccount tokens from the TokenRequest API
// (POST serviceaccounts/NAME/token). The requested lifetime is raised to the API's 10-minute
// minimum; the expiry returned is the one the API server actually granted
// (status.expirationTimestamp), which may differ from the request.
//
// Ownership: borrows the client. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/client.h"

namespace labkube::authenticator {

inline constexpr absl::Duration kMinTokenTtl = absl::Minutes(10);

struct IssuedToken {
  std::string token;
  absl::Time expiry;
};

class TokenIssuer {
 public:
  // `audiences` empty: the API server's own audience (tokens work against it).
  TokenIssuer(kube::Client& client, std::vector<std::string> audiences = {});

  // A token for `ns`/`service_account` valid for about `ttl` (at least kMinTokenTtl).
  // kNotFound when the ServiceAccount does not exist.
  absl::StatusOr<IssuedToken> Issue(const std::string& ns, const std::string& service_account,
                                    absl::Duration ttl);

 private:
  kube::Client& client_;
  const std::vector<std::string> audiences_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_
