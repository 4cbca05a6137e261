#include "services/scheduler/flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "lib/service/server_flags.h"

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

namespace labkube::scheduler {

Options OptionsFromFlags() {
  Options o;
  service::ApplyServerFlags(o);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.identity = absl::GetFlag(FLAGS_identity);
  o.leader_elect = absl::GetFlag(FLAGS_leader_elect);
  o.mark_leader_pod = absl::GetFlag(FLAGS_mark_leader_pod);
  o.reservation_image = absl::GetFlag(FLAGS_reservation_image);
  o.claim_ttl = absl::Seconds(absl::GetFlag(FLAGS_claim_ttl_seconds));
  o.claim_key_secret = absl::GetFlag(FLAGS_claim_key_secret);
  o.claim_clients = absl::GetFlag(FLAGS_claim_clients);
  o.availability_clients = absl::GetFlag(FLAGS_availability_clients);
  o.manage_certificates = absl::GetFlag(FLAGS_manage_certificates);
  o.certificate_dir = absl::GetFlag(FLAGS_certificate_dir);
  o.certificate_namespace = absl::GetFlag(FLAGS_certificate_namespace);
  o.gateway_names = absl::GetFlag(FLAGS_gateway_names);
  o.webhook_configuration = absl::GetFlag(FLAGS_webhook_configuration);
  return o;
}

}  // namespace labkube::scheduler
