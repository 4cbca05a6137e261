// Authenticator: the authenticator's use cases, free of gRPC: Login, Refresh, Logout, the
// admin-only member management (CreateMember, DeleteMember, ListMembers, IssueKubeconfig) and
// SetPassword. Each returns absl::Status(Or); the gRPC service (authenticator_service.h) only
// translates. Every login, refresh, failure and admin action writes one "audit" log line
// (action, result, member, actor, peer, reason) - never a password, token or hash.
//
// Login: lockout check (user and peer) -> password check against the stored hash, or against a
// dummy hash for unknown users and members without a password (same error, similar time) ->
// TokenRequest for the member's ServiceAccount -> refresh session -> kubeconfig.
//
// Ownership: borrows every dependency (see Deps); they must outlive it.
// Thread safety: all methods are safe from many threads (the dependencies are).
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "services/authenticator/caller_identity.h"
#include "services/authenticator/kubeconfig.h"
#include "services/authenticator/lockout.h"
#include "services/authenticator/member_provisioner.h"
#include "services/authenticator/member_store.h"
#include "services/authenticator/password_hasher.h"
#include "services/authenticator/session_store.h"
#include "services/authenticator/token_issuer.h"

namespace labkube::authenticator {

struct AuthenticatorOptions {
  std::string namespace_prefix = "lab-";
  std::string cluster_name = "labkube";
  std::string public_server;  // the API server URL as users reach it
  std::string public_ca_pem;  // its CA ("" = clients use their trust store)
  absl::Duration token_ttl = absl::Hours(8);
  absl::Duration max_issued_ttl = absl::Hours(24 * 7);  // IssueKubeconfig upper bound
};

struct Deps {
  kube::Client& client;
  Clock& clock;
  MemberStore& members;
  SessionStore& sessions;
  PasswordHasher& hasher;
  Lockout& lockout;
  TokenIssuer& issuer;
  MemberProvisioner& provisioner;
  CallerIdentity& identity;
};

// Who is asking: the `authorization` metadata value ("" if none) and the client address.
struct RequestContext {
  std::string authorization;
  std::string peer;
};

struct Credentials {
  std::string member;
  std::string ns;
  IssuedToken access;
  std::string refresh_token;  // Login only
  absl::Time refresh_expiry;
  std::string kubeconfig;  // "" when not asked for
};

struct MemberInfo {
  std::string name;
  std::string ns;
  bool admin = false;
  bool has_password = false;
  absl::Time created;
  std::optional<absl::Time> last_login;
  int active_sessions = 0;
  std::map<std::string, std::string> quota;
};

struct IssuedKubeconfig {
  std::string kubeconfig;
  absl::Time expiry;
};

class Authenticator {
 public:
  Authenticator(Deps deps, AuthenticatorOptions options);

  absl::StatusOr<Credentials> Login(const RequestContext& ctx, const std::string& username,
                                    const std::string& password, CredentialForm form);
  absl::StatusOr<Credentials> Refresh(const RequestContext& ctx, const std::string& refresh_token,
                                      std::optional<CredentialForm> kubeconfig_form);
  absl::Status Logout(const RequestContext& ctx, const std::string& refresh_token);

  absl::StatusOr<MemberInfo> CreateMember(const RequestContext& ctx, const MemberSpec& spec,
                                          const std::string& password);
  // Returns how many refresh sessions were revoked.
  absl::StatusOr<int> DeleteMember(const RequestContext& ctx, const std::string& name,
                                   bool delete_namespace);
  absl::Status SetPassword(const RequestContext& ctx, const std::string& name,
                           const std::string& new_password, const std::string& old_password);
  absl::StatusOr<std::vector<MemberInfo>> ListMembers(const RequestContext& ctx);
  // `ttl` zero: the default token lifetime; capped at max_issued_ttl.
  absl::StatusOr<IssuedKubeconfig> IssueKubeconfig(const RequestContext& ctx, const std::string& ns,
                                                   const std::string& service_account,
                                                   absl::Duration ttl);

  const AuthenticatorOptions& options() const { return options_; }

 private:
  // Checks `password` for `name` under the lockout; kUnauthenticated / kResourceExhausted.
  absl::Status CheckPassword(const std::string& name, const std::string& password,
                             const std::string& peer);
  // Access token (+ kubeconfig when `form` is set) for member `name`.
  absl::StatusOr<Credentials> IssueFor(const std::string& name, absl::Duration ttl,
                                       std::optional<CredentialForm> form,
                                       const SessionBinding& binding = {});
  // Deletes the Secrets the sessions' access tokens are bound to (ends those tokens).
  absl::Status CloseBindings(const std::string& member, const std::vector<Session>& sessions);
  // Undoes a CreateMember whose provisioning failed.
  void RollBack(const std::string& name, const MemberProvisioner::Progress& progress);
  std::string Render(const std::string& user, const std::string& ns, CredentialForm form,
                     const std::string& token) const;

  Deps deps_;
  const AuthenticatorOptions options_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_H_
