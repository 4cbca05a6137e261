// The injector process: the HTTPS server (TLS 1.2+, certificate and key re-read when their
// files change) with POST /mutate-pods (the mutating admission webhook), GET /healthz, /readyz
// and /metrics, wired to a Mutator that claims slots through one shared gRPC channel to the
// scheduler. The injector needs no Kubernetes API access.
//
// Owns everything it creates (the Claimer too, when injected). Create() is the only fallible
// step. Thread-safe.
#ifndef LABKUBE_SERVICES_INJECTOR_SERVER_H_
#define LABKUBE_SERVICES_INJECTOR_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/service/options.h"
#include "services/injector/claimer.h"

namespace labkube::injector {

// The common fields are service::ServiceOptions': the HTTPS endpoint is http_address:http_port
// (flags --address, --port; 0 = any free port, see port()), TLS files, plaintext (plain HTTP,
// loopback only, for local development), tls_client_ca (flag --client_ca: the CA of the API
// server's webhook client certificate, "" = reviews from any caller), the log level and the
// client certificate toward the scheduler. kubeconfig, grpc_address and max_threads are unused.
struct Options : service::ServiceOptions {
  Options() { http_port = 8443; }

  // With tls_client_ca: the certificate names whose reviews are answered.
  std::vector<std::string> allowed_clients = {"labkube-webhook-client"};
  std::string scheduler_address = "labkube-scheduler.labkube-system.svc:8443";
  std::string scheduler_ca;  // CA for the scheduler's certificate ("" = system CAs)
  bool scheduler_plaintext = false;
  // Upper bound for one scheduler call; well below the webhook's timeoutSeconds.
  absl::Duration claim_timeout = absl::Seconds(2);
  int threads = 16;  // HTTPS workers: one per open (keep-alive) connection
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options);
  // For tests: an injected Claimer (e.g. FakeClaimer) instead of the gRPC one.
  static absl::StatusOr<std::unique_ptr<Server>> Create(const Options& options,
                                                        std::unique_ptr<Claimer> claimer);
  ~Server();

  int port() const;
  bool IsReady() const;
  // Stops serving (running requests finish). Idempotent.
  void Shutdown();
  // A graceful stop for a rolling update: not ready and `Connection: close` on every answer
  // (HttpServer::Drain) for `delay`, so the Service stops sending reviews here and the API
  // server reconnects to a replica that stays; then Shutdown(), which finishes running reviews.
  void DrainAndShutdown(absl::Duration delay);

  struct Parts;  // the owned components (server.cc)

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_SERVER_H_
