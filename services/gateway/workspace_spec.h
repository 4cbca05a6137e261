// The Kubernetes objects of one workspace, as pure functions of a WorkspaceSpec:
//   Deployment ws-<name> (1 replica, Recreate: one machine slot at a time) whose pod template
//     carries the guest labels (pod-role=guest, machine-group, machine-type, injecting
//     container "workspace"), so the injector gives it its machine type; it mounts the member's
//     volumes and takes its access token from the Secret and its settings from the
//     labkube-settings ConfigMap (optional);
//   Secret ws-<name>-token (the Jupyter token / code-server password), Service ws-<name> and
//     Ingress ws-<name>, each owned by the Deployment (ownerReferences), so deleting the
//     Deployment garbage-collects them.
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
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "rapidjson/document.h"
#include "services/gateway/storage_manager.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

inline constexpr char kWorkspaceContainer[] = "workspace";

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

// The object the Deployment-owned objects point at.
struct Owner {
  std::string name;
  std::string uid;
};

std::string DeploymentName(std::string_view workspace);
std::string TokenSecretName(std::string_view workspace);
// Labels every object of the workspace carries (also the Deployment's selector).
std::map<std::string, std::string> WorkspaceLabels(std::string_view member,
                                                   std::string_view workspace);

// The objects, built as values (kube::Builder): no field of the spec can change their
// structure. kInternal, naming the object, for a mistake in building (e.g. an Owner without a
// uid), never an abort.
absl::StatusOr<rapidjson::Document> BuildDeployment(const WorkspaceSpec& spec);
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
