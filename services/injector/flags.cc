#include "services/injector/flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "lib/service/client_flags.h"
#include "lib/service/flags.h"

ABSL_FLAG(std::string, address, "0.0.0.0", "HTTPS listen address");
ABSL_FLAG(int, port, 8443, "HTTPS port (0 = any free port)");
ABSL_FLAG(std::string, scheduler, "labkube-scheduler.labkube-system.svc:8443",
          "scheduler gRPC address host:port");
ABSL_FLAG(std::string, scheduler_ca, "", "CA PEM file for the scheduler (default: system CAs)");
ABSL_FLAG(std::string, client_ca, "",
          "CA of the API server's webhook client certificate: reviews only from it (see docs)");
ABSL_FLAG(std::vector<std::string>, allowed_clients, {"labkube-webhook-client"},
          "client certificate names whose reviews are answered (with --client_ca)");
ABSL_FLAG(bool, scheduler_plaintext, false, "call the scheduler without TLS (local development)");
ABSL_FLAG(int, claim_timeout_ms, 2000, "upper bound for one scheduler call");
ABSL_FLAG(int, shutdown_delay_ms, 5000,
          "on SIGTERM: keep answering (not ready, Connection: close) this long before stopping, "
          "so a rolling update refuses no review");

namespace labkube::injector {

Options OptionsFromFlags() {
  Options o;
  service::ApplyFlags(o);
  service::ApplyClientFlags(o);
  o.http_address = absl::GetFlag(FLAGS_address);
  o.http_port = absl::GetFlag(FLAGS_port);
  o.tls_client_ca = absl::GetFlag(FLAGS_client_ca);
  o.allowed_clients = absl::GetFlag(FLAGS_allowed_clients);
  o.scheduler_address = absl::GetFlag(FLAGS_scheduler);
  o.scheduler_ca = absl::GetFlag(FLAGS_scheduler_ca);
  o.scheduler_plaintext = absl::GetFlag(FLAGS_scheduler_plaintext);
  o.claim_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_claim_timeout_ms));
  return o;
}

absl::Duration ShutdownDelayFromFlags() {
  return absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_delay_ms));
}

}  // namespace labkube::injector
