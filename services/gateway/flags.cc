#include "services/gateway/flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "lib/service/client_flags.h"
#include "lib/service/server_flags.h"

using std::string;

ABSL_FLAG(string, scheduler, "labkube-scheduler.labkube-system.svc:8443", "scheduler host:port");
ABSL_FLAG(string, scheduler_ca, "", "CA file to verify the scheduler (default: system roots)");
ABSL_FLAG(bool, scheduler_plaintext, false, "talk to the scheduler without TLS");
ABSL_FLAG(string, authenticator, "labkube-authenticator.labkube-system.svc:8443",
          "authenticator host:port");
ABSL_FLAG(string, authenticator_ca, "", "CA file to verify the authenticator");
ABSL_FLAG(bool, authenticator_plaintext, false, "talk to the authenticator without TLS");
ABSL_FLAG(int, upstream_timeout_ms, 5000, "deadline of each scheduler/authenticator call");
ABSL_FLAG(string, namespace_prefix, "lab-", "member namespaces are <prefix><member>");
ABSL_FLAG(int, max_calls_per_member, 16,
          "unary calls one member may have in progress at once (more are refused)");
ABSL_FLAG(int, token_cache_seconds, 10, "how long a TokenReview answer is reused");
ABSL_FLAG(int, describe_cache_ms, 1000,
          "how long one workspace status read is shared by callers polling it (0: not shared)");
ABSL_FLAG(string, cephfs_storage_class, "cephfs", "StorageClass of the data volume");
ABSL_FLAG(string, nfs_storage_class, "nfs", "StorageClass of the backup volume");
ABSL_FLAG(string, backup_schedule, "0 3 * * *", "cron schedule of the backup CronJob");
ABSL_FLAG(string, backup_image, "docker.io/library/busybox:1.36", "image of the backup job");
ABSL_FLAG(string, jupyterlab_image, "quay.io/jupyter/base-notebook:latest",
          "default JupyterLab image (a Jupyter docker-stacks image)");
ABSL_FLAG(string, codeserver_image, "docker.io/codercom/code-server:latest",
          "default code-server image");
ABSL_FLAG(string, ingress_host, "labkube.local",
          "workspace Ingress host pattern ({member}, {workspace}, {namespace}); \"\" = any host");
ABSL_FLAG(string, ingress_path, "/{member}/{workspace}/", "workspace Ingress path pattern");
ABSL_FLAG(string, ingress_class, "", "IngressClass of workspace Ingresses (\"\" = default)");
ABSL_FLAG(string, ingress_tls_secret, "", "TLS Secret for workspace Ingresses (\"\" = none)");
ABSL_FLAG(string, url_scheme, "https", "scheme of workspace URLs");
ABSL_FLAG(int, web_port, 10443,
          "HTTPS port of the web page, on --http_address with the --tls_* files (-1 = none)");

namespace labkube::gateway {

Options OptionsFromFlags() {
  Options o;
  service::ApplyServerFlags(o);
  service::ApplyClientFlags(o);
  o.scheduler = absl::GetFlag(FLAGS_scheduler);
  o.scheduler_ca = absl::GetFlag(FLAGS_scheduler_ca);
  o.scheduler_plaintext = absl::GetFlag(FLAGS_scheduler_plaintext);
  o.authenticator = absl::GetFlag(FLAGS_authenticator);
  o.authenticator_ca = absl::GetFlag(FLAGS_authenticator_ca);
  o.authenticator_plaintext = absl::GetFlag(FLAGS_authenticator_plaintext);
  o.upstream_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_upstream_timeout_ms));
  o.namespace_prefix = absl::GetFlag(FLAGS_namespace_prefix);
  o.token_cache_ttl = absl::Seconds(absl::GetFlag(FLAGS_token_cache_seconds));
  o.max_calls_per_member = absl::GetFlag(FLAGS_max_calls_per_member);
  o.storage.cephfs_storage_class = absl::GetFlag(FLAGS_cephfs_storage_class);
  o.storage.nfs_storage_class = absl::GetFlag(FLAGS_nfs_storage_class);
  o.storage.backup_schedule = absl::GetFlag(FLAGS_backup_schedule);
  o.storage.backup_image = absl::GetFlag(FLAGS_backup_image);
  o.workspaces.jupyterlab_image = absl::GetFlag(FLAGS_jupyterlab_image);
  o.workspaces.codeserver_image = absl::GetFlag(FLAGS_codeserver_image);
  o.workspaces.ingress_host = absl::GetFlag(FLAGS_ingress_host);
  o.workspaces.describe_cache = absl::Milliseconds(absl::GetFlag(FLAGS_describe_cache_ms));
  o.workspaces.ingress_path = absl::GetFlag(FLAGS_ingress_path);
  o.workspaces.ingress_class = absl::GetFlag(FLAGS_ingress_class);
  o.workspaces.ingress_tls_secret = absl::GetFlag(FLAGS_ingress_tls_secret);
  o.workspaces.url_scheme = absl::GetFlag(FLAGS_url_scheme);
  o.web_port = absl::GetFlag(FLAGS_web_port);
  return o;
}

}  // namespace labkube::gateway
