// The authenticator process: Kubernetes client, the member and session stores (Secrets in
// labkube-system, cached by informers), password hasher, lockout, token issuer, member
// provisioner, caller identity, the gRPC Authenticator service (TLS, reflection, health) and the
// HTTPS /metrics, /healthz, /readyz endpoint (ready = both Secrets' caches synced).
//
// Owns everything it creates. Create() is the only fallible step. Thread-safe.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_SERVER_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/service/options.h"
#include "services/authenticator/caller_identity.h"

namespace labkube::authenticator {

// The common fields (kubeconfig, ports, TLS, plaintext, threads, log level) are
// service::ServiceOptions'.
struct Options : service::ServiceOptions {
  Options() {
    max_threads = 64;
    max_message_bytes = 64 * 1024;
  }

  // Mutual TLS (tls_client_ca): only callers with a certificate of that CA named here may call
  // (the gateway forwards members' calls; admins' tools use labkube-admin). No CA = any caller.
  std::vector<std::string> allowed_clients = {"labkube-gateway", "labkube-admin"};

  std::string system_namespace = "labkube-system";
  std::string members_secret = "labkube-members";
  std::string sessions_secret = "labkube-sessions";
  std::string namespace_prefix = "lab-";
  std::string member_role = "labkube-member";
  std::string machine_viewer_role = "labkube-machine-viewer";

  // Kubeconfigs handed out: the API server as users reach it ("" = the server of the
  // authenticator's own kubeconfig) and its CA (PEM file; "" = the own kubeconfig's CA).
  std::string public_server;
  std::string public_ca_file;
  std::string public_ca_pem;  // the CA itself (wins over public_ca_file)
  std::string cluster_name = "labkube";
  // The API server's audiences (empty: learned from it); issued tokens also name
  // contract::kGatewayAudience.
  std::vector<std::string> token_audiences;

  absl::Duration token_ttl = absl::Hours(8);  // raised to the API's 10-minute minimum
  absl::Duration max_issued_ttl = absl::Hours(24 * 7);
  absl::Duration session_max_age = absl::Hours(24 * 7);
  int max_sessions_per_member = 16;

  std::string hash_algorithm = "yescrypt";  // or "bcrypt"
  unsigned long hash_cost = 0;              // 0 = the algorithm's default
  int hash_concurrency = 2;

  int lockout_max_failures = 5;
  absl::Duration lockout_window = absl::Minutes(5);
  // Proxies (the gateway) whose `x-forwarded-for` names the client for lockout and audit:
  // comma-separated IPv4/IPv6 addresses or CIDR networks. "" = trust nobody. A bad entry makes
  // Create() fail. See client_address.h.
  std::string trusted_proxies;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options);
  // For tests: an injected client (e.g. the fake) and clock; `verifier` null = TokenReview
  // through `client`. options.public_server is required here.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const Options& options, std::unique_ptr<kube::Client> client, Clock& clock,
      std::unique_ptr<TokenVerifier> verifier = nullptr);
  ~Server();

  int grpc_port() const;
  int http_port() const;
  bool IsReady() const;
  // Stops serving (in-flight calls get until `deadline`) and the informers.
  void Shutdown(absl::Time deadline);

  struct Parts;  // the owned components (server.cc)

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_SERVER_H_
