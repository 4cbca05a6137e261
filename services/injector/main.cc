// labkube injector: flags -> Options -> Server::Create -> wait for SIGTERM.
#include <cstdio>

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "lib/signals.h"
#include "services/injector/server.h"

ABSL_FLAG(std::string, address, "0.0.0.0", "HTTPS listen address");
ABSL_FLAG(int, port, 8443, "HTTPS port (0 = any free port)");
ABSL_FLAG(std::string, tls_cert, "", "TLS certificate PEM file (reloaded on change)");
ABSL_FLAG(std::string, tls_key, "", "TLS private key PEM file");
ABSL_FLAG(bool, plaintext, false, "serve plain HTTP (loopback only, for local development)");
ABSL_FLAG(std::string, scheduler, "labkube-scheduler.labkube-system.svc:8443",
          "scheduler gRPC address host:port");
ABSL_FLAG(std::string, scheduler_ca, "", "CA PEM file for the scheduler (default: system CAs)");
ABSL_FLAG(std::string, client_ca, "",
          "CA of the API server's webhook client certificate: reviews only from it (see docs)");
ABSL_FLAG(std::vector<std::string>, allowed_clients, {"labkube-webhook-client"},
          "client certificate names whose reviews are answered (with --client_ca)");
ABSL_FLAG(std::string, client_cert, "", "the injector's client certificate for the scheduler (mutual TLS)");
ABSL_FLAG(std::string, client_key, "", "its private key");
ABSL_FLAG(bool, scheduler_plaintext, false, "call the scheduler without TLS (local development)");
ABSL_FLAG(int, claim_timeout_ms, 2000, "upper bound for one scheduler call");
ABSL_FLAG(int, shutdown_delay_ms, 5000,
          "on SIGTERM: keep answering (not ready, Connection: close) this long before stopping, "
          "so a rolling update refuses no review");
ABSL_FLAG(std::string, log_level, "info", "debug|info|warn|error");

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  labkube::injector::Options o;
  o.address = absl::GetFlag(FLAGS_address);
  o.port = absl::GetFlag(FLAGS_port);
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.plaintext = absl::GetFlag(FLAGS_plaintext);
  o.scheduler_address = absl::GetFlag(FLAGS_scheduler);
  o.scheduler_ca = absl::GetFlag(FLAGS_scheduler_ca);
  o.client_cert = absl::GetFlag(FLAGS_client_cert);
  o.client_ca = absl::GetFlag(FLAGS_client_ca);
  o.allowed_clients = absl::GetFlag(FLAGS_allowed_clients);
  o.client_key = absl::GetFlag(FLAGS_client_key);
  o.scheduler_plaintext = absl::GetFlag(FLAGS_scheduler_plaintext);
  o.claim_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_claim_timeout_ms));
  o.log_level = absl::GetFlag(FLAGS_log_level);
  auto server = labkube::injector::Server::Create(o);
  if (!server.ok()) {
    std::fprintf(stderr, "labkube-injector: %s\n", server.status().ToString().c_str());
    return 1;
  }
  labkube::WaitForTerminationSignal();
  (*server)->DrainAndShutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_delay_ms)));
  return 0;
}
