// labkube scheduler: flags -> Options -> Server::Create -> wait for SIGTERM.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "lib/signals.h"
#include "services/scheduler/server.h"

ABSL_FLAG(std::string, kubeconfig, "", "kubeconfig file (default: in-cluster or $KUBECONFIG)");
ABSL_FLAG(std::string, grpc_address, "0.0.0.0:8443", "gRPC listen address");
ABSL_FLAG(std::string, http_address, "0.0.0.0", "metrics/health listen address");
ABSL_FLAG(int, http_port, 9443, "metrics/health port (0 = any free port)");
ABSL_FLAG(std::string, tls_cert, "", "TLS certificate PEM file (reloaded on change)");
ABSL_FLAG(std::string, tls_key, "", "TLS private key PEM file");
ABSL_FLAG(bool, plaintext, false, "serve without TLS (loopback only, for local development)");
ABSL_FLAG(std::string, identity, "", "leader election identity (default hostname-pid)");
ABSL_FLAG(bool, leader_elect, true, "take part in leader election");
ABSL_FLAG(bool, mark_leader_pod, false,
          "in a Deployment (--identity = the pod's name): the leader labels its pod "
          "labkube.io/scheduler-leader=true for the Service, and every synced replica is ready");
ABSL_FLAG(std::string, reservation_image, "registry.k8s.io/pause:3.10", "reservation pod image");
ABSL_FLAG(int, claim_ttl_seconds, 10, "seconds a claim waits for its guest pod");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA PEM file of client certificates (mutual TLS; per-method caller names are checked)");
ABSL_FLAG(std::vector<std::string>, claim_clients, {"labkube-injector"},
          "client certificate names that may call Claim");
ABSL_FLAG(std::vector<std::string>, availability_clients,
          std::vector<std::string>({"labkube-gateway", "labkube-injector", "labkube-admin"}),
          "client certificate names that may read availability");
ABSL_FLAG(std::string, claim_key_secret, "labkube-claim-key",
          "Secret in labkube's namespace with the claim signing key (created when missing)");
ABSL_FLAG(bool, manage_certificates, false,
          "make and renew labkube's CA and service certificates (Secrets labkube-*-tls, "
          "ConfigMap labkube-ca, the webhook's caBundle) and serve with the scheduler's own");
ABSL_FLAG(std::string, certificate_dir, "/var/run/labkube/tls",
          "with --manage_certificates: where the scheduler writes its tls.crt, tls.key, ca.crt");
ABSL_FLAG(std::string, certificate_namespace, "labkube-system",
          "with --manage_certificates: the namespace of the certificate Secrets and ConfigMap");
ABSL_FLAG(std::vector<std::string>, gateway_names, {},
          "with --manage_certificates: more DNS names or IP addresses members reach the gateway "
          "at (its Ingress or LoadBalancer name, a node address for a NodePort)");
ABSL_FLAG(std::string, webhook_configuration, "labkube-injector",
          "with --manage_certificates: the MutatingWebhookConfiguration whose caBundle to fill");
ABSL_FLAG(std::string, log_level, "info", "debug|info|warn|error");

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  absl::ParseCommandLine(argc, argv);
  labkube::scheduler::Options o;
  o.kubeconfig = absl::GetFlag(FLAGS_kubeconfig);
  o.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  o.http_address = absl::GetFlag(FLAGS_http_address);
  o.http_port = absl::GetFlag(FLAGS_http_port);
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.plaintext = absl::GetFlag(FLAGS_plaintext);
  o.identity = absl::GetFlag(FLAGS_identity);
  o.leader_elect = absl::GetFlag(FLAGS_leader_elect);
  o.mark_leader_pod = absl::GetFlag(FLAGS_mark_leader_pod);
  o.reservation_image = absl::GetFlag(FLAGS_reservation_image);
  o.claim_ttl = absl::Seconds(absl::GetFlag(FLAGS_claim_ttl_seconds));
  o.claim_key_secret = absl::GetFlag(FLAGS_claim_key_secret);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.claim_clients = absl::GetFlag(FLAGS_claim_clients);
  o.availability_clients = absl::GetFlag(FLAGS_availability_clients);
  o.log_level = absl::GetFlag(FLAGS_log_level);
  o.manage_certificates = absl::GetFlag(FLAGS_manage_certificates);
  o.certificate_dir = absl::GetFlag(FLAGS_certificate_dir);
  o.certificate_namespace = absl::GetFlag(FLAGS_certificate_namespace);
  o.gateway_names = absl::GetFlag(FLAGS_gateway_names);
  o.webhook_configuration = absl::GetFlag(FLAGS_webhook_configuration);
  auto server = labkube::scheduler::Server::Create(o);
  if (!server.ok()) {
    std::fprintf(stderr, "labkube-scheduler: %s\n", server.status().ToString().c_str());
    return 1;
  }
  labkube::WaitForTerminationSignal();
  (*server)->Shutdown(absl::Now() + absl::Seconds(5));
  return 0;
}
