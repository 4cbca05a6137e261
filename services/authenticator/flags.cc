#include "services/authenticator/flags.h"

#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "lib/service/server_flags.h"

ABSL_FLAG(std::string, tls_client_ca, "",
          "CA PEM file of client certificates: mutual TLS, only --allowed_clients may call");
ABSL_FLAG(std::vector<std::string>, allowed_clients,
          std::vector<std::string>({"labkube-gateway", "labkube-admin"}),
          "client certificate names that may call the authenticator (with --tls_client_ca)");
ABSL_FLAG(std::string, system_namespace, "labkube-system",
          "namespace of the members/sessions Secrets");
ABSL_FLAG(std::string, namespace_prefix, "lab-", "member namespaces are <prefix><member>");
ABSL_FLAG(std::string, public_server, "", "API server URL for issued kubeconfigs (default: own)");
ABSL_FLAG(std::string, public_ca_file, "", "CA PEM for issued kubeconfigs (default: own CA)");
ABSL_FLAG(std::string, cluster_name, "labkube", "cluster name in issued kubeconfigs");
ABSL_FLAG(std::vector<std::string>, token_audiences, {}, "the API server's token audiences (default: asked of it); tokens also name "
          "labkube.io/gateway");
ABSL_FLAG(absl::Duration, token_ttl, absl::Hours(8), "access token lifetime (min 10m)");
ABSL_FLAG(absl::Duration, max_issued_ttl, absl::Hours(168), "IssueKubeconfig lifetime cap");
ABSL_FLAG(absl::Duration, session_max_age, absl::Hours(168), "refresh session maximum age");
ABSL_FLAG(std::string, hash_algorithm, "yescrypt", "password hash: yescrypt or bcrypt");
ABSL_FLAG(int, hash_cost, 0, "hash cost (0 = default)");
ABSL_FLAG(int, lockout_max_failures, 5, "failed logins per user/peer before lockout");
ABSL_FLAG(absl::Duration, lockout_window, absl::Minutes(5), "lockout window");
ABSL_FLAG(std::string, trusted_proxies, "",
          "comma-separated IPs/CIDRs of proxies (the gateway) whose x-forwarded-for names the "
          "client for lockout and audit (default: trust nobody)");
ABSL_FLAG(std::string, name, "", "bootstrap-admin: the admin member's name");
ABSL_FLAG(bool, password_stdin, false, "bootstrap-admin: read the password from stdin");

namespace labkube::authenticator {

Options OptionsFromFlags() {
  Options o;
  service::ApplyServerFlags(o);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.allowed_clients = absl::GetFlag(FLAGS_allowed_clients);
  o.system_namespace = absl::GetFlag(FLAGS_system_namespace);
  o.namespace_prefix = absl::GetFlag(FLAGS_namespace_prefix);
  o.public_server = absl::GetFlag(FLAGS_public_server);
  o.public_ca_file = absl::GetFlag(FLAGS_public_ca_file);
  o.cluster_name = absl::GetFlag(FLAGS_cluster_name);
  o.token_audiences = absl::GetFlag(FLAGS_token_audiences);
  o.token_ttl = absl::GetFlag(FLAGS_token_ttl);
  o.max_issued_ttl = absl::GetFlag(FLAGS_max_issued_ttl);
  o.session_max_age = absl::GetFlag(FLAGS_session_max_age);
  o.hash_algorithm = absl::GetFlag(FLAGS_hash_algorithm);
  o.hash_cost = static_cast<unsigned long>(absl::GetFlag(FLAGS_hash_cost));
  o.lockout_max_failures = absl::GetFlag(FLAGS_lockout_max_failures);
  o.lockout_window = absl::GetFlag(FLAGS_lockout_window);
  o.trusted_proxies = absl::GetFlag(FLAGS_trusted_proxies);
  return o;
}

BootstrapFlags BootstrapFlagsFromFlags() {
  return BootstrapFlags{absl::GetFlag(FLAGS_name), absl::GetFlag(FLAGS_password_stdin)};
}

}  // namespace labkube::authenticator
