// The Kubernetes objects of one workspace, as pure functions of a WorkspaceSpec:
//   Deployment ws-<name> (1 replica, Recreate: one machine slot at a time) whose pod template
//     carries the guest labels (pod-role=guest, machine-group, machine-type, injecting
//     container "workspace"), so the injector gives it its machine type; it mounts the member's
//     volumes and takes its access token from the Secret and its settings from the
//     labkube-settings ConfigMap (optional);
//   Secret ws-<name>-token (the Jupyter token / code-server password), Service ws-<name> and
//     Ingress ws-<name>.
// All four are controlled by the Workspace object (ownerReferences, workspace_object.h), so
// deleting the Workspace garbage-collects them. The Deployment carries a digest of its own spec
// (contract::kWorkspaceSpecAnnotation): the controller rewrites it when the digest it would
// build differs.
// Every object is labelled app.kubernetes.io/managed-by=labkube-gateway,
// labkube.io/component=workspace, labkube.io/workspace=<name>, labkube.io/user=<member>,
// labkube.io/workspace-kind=<kind>.
//
// Free functions, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_SPEC_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_SPEC_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "rapidjson/document.h"
#include "services/gateway/storage_manager.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

inline constexpr char kWorkspaceContainer[] = "workspace";

// How the gateway's workspaces are built and reached (flags; the controller and the manager).
struct WorkspaceOptions {
  std::string jupyterlab_image = "quay.io/jupyter/base-notebook:latest";
  std::string codeserver_image = "docker.io/codercom/code-server:latest";
  // Patterns with {member}, {workspace}, {namespace}.
  std::string ingress_host = "labkube.local";
  std::string ingress_path = "/{member}/{workspace}/";
  std::string ingress_class;       // "" = the cluster's default IngressClass
  std::string ingress_tls_secret;  // "" = no TLS section on the Ingress
  std::string url_scheme = "https";
  absl::Duration watch_poll = absl::Seconds(1);
  absl::Duration describe_cache = absl::Seconds(1);  // <= 0: no sharing across time
  // How long Start waits for the controller's token Secret, to answer with the token (0: not).
  absl::Duration token_wait = absl::Seconds(3);
};

struct WorkspaceSpec {
  std::string member;
  std::string ns;
  std::string name;
  gw::WorkspaceKind kind = gw::WORKSPACE_KIND_JUPYTERLAB;
  std::string group;
  std::string type;
  std::string image;
  std::vector<std::string> image_pull_secrets;
  std::vector<Mount> mounts;
  std::string data_path;  // working directory for the IDE ("" = the image's default)
  std::string settings_config_map;
  std::string host;  // Ingress host ("" = any)
  std::string path;  // Ingress path prefix, "/" or "/a/b/"
  std::string url;
  std::string ingress_class;       // "" = the cluster's default
  std::string ingress_tls_secret;  // "" = no TLS section
};

// The Workspace object every object of the workspace is controlled by.
inline constexpr char kWorkspaceApiVersion[] = "labkube.io/v1alpha1";
inline constexpr char kWorkspaceKind[] = "Workspace";
struct Owner {
  std::string name;
  std::string uid;
};

// The default image of `kind` when the Workspace names none.
std::string DefaultImage(const WorkspaceOptions& options, gw::WorkspaceKind kind);
// Sets host, path, url, ingress_class and ingress_tls_secret of `spec` (member, ns and name
// set) from the options' patterns.
void Route(const WorkspaceOptions& options, WorkspaceSpec& spec);

std::string DeploymentName(std::string_view workspace);
std::string TokenSecretName(std::string_view workspace);
// Labels every object of the workspace carries (also the Deployment's selector).
std::map<std::string, std::string> WorkspaceLabels(std::string_view member,
                                                   std::string_view workspace);

// The objects, built as values (kube::Builder): no field of the spec can change their
// structure. kInternal, naming the object, for a mistake in building (e.g. an Owner without a
// uid), never an abort.
absl::StatusOr<rapidjson::Document> BuildDeployment(const WorkspaceSpec& spec, const Owner& owner);
absl::StatusOr<rapidjson::Document> BuildSecret(const WorkspaceSpec& spec, const Owner& owner,
                                                std::string_view token);
absl::StatusOr<rapidjson::Document> BuildService(const WorkspaceSpec& spec, const Owner& owner);
absl::StatusOr<rapidjson::Document> BuildIngress(const WorkspaceSpec& spec, const Owner& owner);

// "jupyterlab" / "codeserver" and back (UNSPECIFIED for anything else).
std::string_view KindName(gw::WorkspaceKind kind);
gw::WorkspaceKind KindFromName(std::string_view name);

// A fresh random access token (hex).
std::string NewAccessToken();

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_SPEC_H_
