// WorkspaceManager: JupyterLab / code-server workspaces in a member's namespace (objects:
// workspace_spec.h; phase: workspace_status.h).
//   Start    checks the input (fields named in errors), resolves the machine type against the
//            scheduler's list (NOT_FOUND lists the valid ones), refuses duplicates
//            (ALREADY_EXISTS), creates the Deployment, then the Secret, Service and Ingress
//            owned by it; if any of those fails, it deletes what it made.
//   Stop     deletes the Ingress, Service, Secret and Deployment (and so its pods).
//   Describe phase, reason, node, GPU model, URL, token, age. Concurrent callers share one
//            read; running/failed answers are also reused for `describe_cache` (callers polling
//            one workspace cost the API server one read per period, not one each); Start and
//            Stop invalidate them.
//   Watch    polls Describe and reports each change until the callback says stop or the
//            workspace is gone (last report: PHASE_STOPPED).
//
// Ownership: borrows the client, availability, storage manager and clock.
// Thread safety: safe from many threads (its only state is the thread-safe Describe cache).
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/shared_result_cache.h"
#include "services/gateway/access.h"
#include "services/gateway/availability.h"
#include "services/gateway/storage_manager.h"
#include "services/gateway/workspace_spec.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

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
};

class WorkspaceManager {
 public:
  WorkspaceManager(kube::Client& client, Availability& availability, StorageManager& storage,
                   Clock& clock, WorkspaceOptions options);

  absl::StatusOr<gw::Workspace> Start(const Target& target, const gw::StartWorkspaceRequest& r);
  // Returns "Kind/name" of each deleted object; kNotFound when there was nothing.
  absl::StatusOr<std::vector<std::string>> Stop(const Target& target, std::string_view name);
  absl::StatusOr<std::vector<gw::Workspace>> List(const Target& target);
  absl::StatusOr<gw::Workspace> Describe(const Target& target, std::string_view name);
  // Calls `on_change` with the workspace now and after each change of phase, reason, message
  // or node, until it returns false or `stop()` is true (checked every poll). Ends OK after
  // reporting PHASE_STOPPED when the workspace disappears; kNotFound if it never existed.
  absl::Status Watch(const Target& target, std::string_view name,
                     const std::function<bool(const gw::Workspace&)>& on_change,
                     const std::function<bool()>& stop);

 private:
  struct Snapshot;  // objects of a namespace, listed once

  absl::Status CheckStart(const gw::StartWorkspaceRequest& r) const;
  WorkspaceSpec SpecFor(const Target& target, const gw::StartWorkspaceRequest& r,
                        const gw::MachineType& type, std::vector<Mount> mounts) const;
  absl::Status CreateOwned(const Target& target, const WorkspaceSpec& spec, const std::string& token,
                           const rapidjson::Value& deployment);
  absl::StatusOr<Snapshot> Load(const Target& target, std::string_view only);
  gw::Workspace Build(const Target& target, const rapidjson::Value& deployment,
                      const Snapshot& snapshot);

  kube::Client& client_;
  Availability& availability_;
  StorageManager& storage_;
  Clock& clock_;
  const WorkspaceOptions options_;
  SharedResultCache<gw::Workspace> describe_cache_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_
