// TokenIssuer: short-lived ServiceAccount tokens from the TokenRequest API
// (POST serviceaccounts/NAME/token). The requested lifetime is raised to the API's 10-minute
// minimum; the expiry returned is the one the API server actually granted
// (status.expirationTimestamp), which may differ from the request.
//
// Audiences: every token is issued for the API server's own audiences (so kubectl works with
// it) and for labkube's services (contract::kGatewayAudience: the gateway accepts nothing
// else). The API server's audiences come from TokenAudiences::api, or, when that is empty,
// from the API server itself: the first TokenRequest asks without audiences, and the reply's
// spec.audiences (the server's defaults) is remembered for the life of the process.
//
// Ownership: borrows the client. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/contract.h"
#include "lib/kube/client.h"

namespace labkube::authenticator {

inline constexpr absl::Duration kMinTokenTtl = absl::Minutes(10);

struct IssuedToken {
  std::string token;
  absl::Time expiry;
};

// The object a login session's access tokens are bound to (a Secret in the member's namespace):
// the API server refuses every token bound to it once it is deleted, so logout and a password
// change end the access tokens too, not only the refresh token.
struct SessionBinding {
  std::string name;  // "" = unbound (sessions made before bindings existed)
  std::string uid;
};

inline constexpr char kSessionSecretPrefix[] = "labkube-session-";

struct TokenAudiences {
  std::vector<std::string> api;  // the API server's; empty: learned from the API server
  std::vector<std::string> services = {contract::kGatewayAudience};
};

class TokenIssuer {
 public:
  explicit TokenIssuer(kube::Client& client, TokenAudiences audiences = {});

  // A token for `ns`/`service_account` valid for about `ttl` (at least kMinTokenTtl).
  // kNotFound when the ServiceAccount does not exist.
  // With a `binding`, the token is bound to that Secret (TokenRequest boundObjectRef).
  absl::StatusOr<IssuedToken> Issue(const std::string& ns, const std::string& service_account,
                                    absl::Duration ttl, const SessionBinding& binding = {});

  // The audiences tokens are issued for; nullopt until the API server's are known.
  std::optional<std::vector<std::string>> Audiences() ABSL_LOCKS_EXCLUDED(mu_);

  // A new session Secret in `ns` for `member` (generateName labkube-session-, no data).
  absl::StatusOr<SessionBinding> OpenBinding(const std::string& ns, const std::string& member);
  // Deletes the session's Secret (UID precondition): every token bound to it stops working.
  // OK when it is already gone or the session was unbound.
  absl::Status CloseBinding(const std::string& ns, const SessionBinding& binding);

 private:
  absl::StatusOr<rapidjson::Document> Request(const std::string& ns, const std::string& sa,
                                              int64_t seconds, const SessionBinding& binding,
                                              const std::vector<std::string>* audiences);
  void Learn(const rapidjson::Value& reply) ABSL_LOCKS_EXCLUDED(mu_);

  kube::Client& client_;
  const std::vector<std::string> services_;
  absl::Mutex mu_;
  std::optional<std::vector<std::string>> audiences_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_TOKEN_ISSUER_H_
