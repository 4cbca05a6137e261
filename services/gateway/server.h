// The gateway process: Kubernetes client (the gateway's own ServiceAccount, acting in members'
// namespaces), TokenReviewer with its cache, the scheduler and authenticator channels, the
// managers, the gRPC Gateway service (TLS, reflection, health) and the HTTPS /metrics,
// /healthz, /readyz endpoint.
//
// Owns everything it creates. Create() is the only fallible step. Thread-safe.
#ifndef LABKUBE_SERVICES_GATEWAY_SERVER_H_
#define LABKUBE_SERVICES_GATEWAY_SERVER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/service/options.h"
#include "services/gateway/storage_manager.h"
#include "services/gateway/workspace_controller.h"
#include "services/gateway/workspace_manager.h"

namespace labkube::gateway {

// The common fields (kubeconfig, ports, TLS, plaintext, threads, message size, log level, and
// client_cert/client_key: the gateway's own certificate, CN labkube-gateway, toward the
// scheduler and the authenticator when they require mutual TLS) are service::ServiceOptions'.
struct Options : service::ServiceOptions {
  Options() {
    max_threads = 256;
    max_message_bytes = 1 << 20;
  }

  // Upstreams (host:port). *_ca: the CA to trust ("" = system roots); *_plaintext: no TLS.
  std::string scheduler = "labkube-scheduler.labkube-system.svc:8443";
  std::string scheduler_ca;
  bool scheduler_plaintext = false;
  std::string authenticator = "labkube-authenticator.labkube-system.svc:8443";
  std::string authenticator_ca;
  bool authenticator_plaintext = false;
  absl::Duration upstream_timeout = absl::Seconds(5);
  std::string namespace_prefix = "lab-";
  absl::Duration token_cache_ttl = absl::Seconds(10);
  StorageOptions storage;
  WorkspaceOptions workspaces;
  // The workspace controller this process runs (leader-elected; its namespace_prefix is the
  // one above).
  WorkspaceControllerOptions workspace_controller;
  // Unary calls in progress at once, in all and per member (so one member cannot starve the
  // others); beyond them a call is refused at once with RESOURCE_EXHAUSTED.
  int max_calls = 128;
  int max_calls_per_member = 16;
  // The web page (services/gateway/web, docs/web.md) on http_address:web_port, same TLS files;
  // -1 = no web page, 0 = any free port.
  int web_port = -1;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options);
  // For tests: an injected Kubernetes client, clock and upstream channels.
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const Options& options, std::unique_ptr<kube::Client> client, Clock& clock,
      std::shared_ptr<grpc::Channel> scheduler, std::shared_ptr<grpc::Channel> authenticator);
  ~Server();

  int grpc_port() const;
  int http_port() const;
  int web_port() const;  // 0 without a web page
  // Stops serving (in-flight calls get until `deadline`) and the scheduler watch.
  void Shutdown(absl::Time deadline);

  struct Parts;  // the owned components (server.cc)

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_SERVER_H_
