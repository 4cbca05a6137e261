// The scheduler process: Kubernetes client, state, controller, leader election, the gRPC
// Scheduler service (TLS, reflection, health) and the HTTPS /metrics, /healthz, /readyz
// endpoint (ready = informers synced and this replica leads, so a Service routes to the leader).
//
// Owns everything it creates. Create() is the only fallible step. Thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_SERVER_H_
#define LABKUBE_SERVICES_SCHEDULER_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/service/options.h"

namespace labkube::scheduler {

// The common fields (kubeconfig, ports, TLS, plaintext, threads, log level) are
// service::ServiceOptions'; tls_client_ca turns on mutual TLS, with the per-method names below.
struct Options : service::ServiceOptions {
  Options() { max_threads = 1024; }  // gRPC rejects calls beyond this (RESOURCE_EXHAUSTED)

  // Mutual TLS (tls_client_ca): clients must present a certificate signed by that CA, and each
  // method is limited to the certificate names below (no CA = no identity checks).
  std::vector<std::string> claim_clients = {"labkube-injector"};
  std::vector<std::string> availability_clients = {"labkube-gateway", "labkube-injector",
                                                    "labkube-admin"};
  std::string identity;    // leader election identity (pod name); default hostname-pid
  // In a Deployment: the leader labels its own pod (identity, in lease_namespace) with
  // contract::kSchedulerLeaderLabel, which the Service selects, and every synced replica
  // reports ready (so rolling updates work); otherwise ready means leading.
  bool mark_leader_pod = false;
  bool leader_elect = true;
  std::string lease_namespace = "labkube-system";
  std::string lease_name = "labkube-scheduler";
  std::string reservation_namespace = "labkube-system";
  std::string reservation_image = "registry.k8s.io/pause:3.10";
  std::string priority_class = "labkube-reservation";
  // How long a claim waits for its guest pod. The API server creates the pod within its webhook
  // timeout of the answer (10 s), or never (another webhook refused it, AlreadyExists, quota).
  absl::Duration claim_ttl = absl::Seconds(10);
  // Secret (in reservation_namespace) holding the claim signing key; created when missing.
  std::string claim_key_secret = "labkube-claim-key";
  // labkube's own certificates (cert_manager.h): the scheduler keeps the CA, every service's
  // certificate Secret, the CA ConfigMap and the webhook's caBundle in `certificate_namespace`
  // (checked every `certificate_check` by the leader), and serves with its own certificate,
  // written to `certificate_dir` (tls.crt, tls.key, ca.crt; empty tls_* options then point there).
  bool manage_certificates = false;
  std::string certificate_namespace = "labkube-system";
  std::string certificate_dir;
  std::string webhook_configuration = "labkube-injector";
  std::vector<std::string> gateway_names;  // more names/addresses in the gateway's certificate
  absl::Duration certificate_check = absl::Seconds(5);
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options);
  // For tests: an injected client (e.g. the fake) and clock.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options,
                                                        std::unique_ptr<kube::Client> client,
                                                        Clock& clock);
  ~Server();

  int grpc_port() const;
  int http_port() const;
  bool IsLeader() const;
  bool IsReady() const;
  // Stops serving (in-flight calls get until `deadline`), steps down, stops the controller.
  void Shutdown(absl::Time deadline);

  struct Parts;  // the owned components (server.cc)

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_SERVER_H_
