// The Workspace resource (labkube.io/v1alpha1, namespaced; k8s/crds/workspaces.labkube.io.yaml)
// as the gateway and its workspace controller read and write it:
//   spec    kind (jupyterlab | codeserver), machine {group, type}, image, imagePullSecrets
//           [{name}], volumes [{claimName, mountPath, readOnly}] (WorkspaceRequest);
//   status  observedGeneration, phase (Waiting | Starting | Running | Failed | Stopping), reason,
//           message, node, machineGroup, gpuModel, gpuCount, url, conditions, and while its pod
//           waits in line for a slot queue {position, length, estimatedStart, estimateNote}
//           (WorkspaceStatus; written only by the controller, through the status subresource).
// Workspace objects carry the workspace labels (managed-by, component, workspace, user) too, so
// a member's `kubectl get ws -l ...` and the manager's lists select them like the children.
//
// Free functions and plain values, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_OBJECT_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_OBJECT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "lib/kube/resource.h"
#include "rapidjson/document.h"
#include "services/gateway/storage_manager.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

// workspaces.labkube.io/v1alpha1, namespaced.
const kube::Resource& WorkspaceResource();

// What a Workspace's spec asks for.
struct WorkspaceRequest {
  gw::WorkspaceKind kind = gw::WORKSPACE_KIND_UNSPECIFIED;
  std::string group;  // "" = the only group that has `type` (resolved by the controller)
  std::string type;
  std::string image;  // "" = the default image of the kind
  std::vector<std::string> image_pull_secrets;
  std::vector<Mount> volumes;
};

struct WorkspaceCondition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition_time;  // RFC 3339
  bool operator==(const WorkspaceCondition&) const = default;
};

struct WorkspaceStatus {
  int64_t observed_generation = 0;
  gw::Phase phase = gw::PHASE_UNSPECIFIED;  // UNSPECIFIED: no status written yet
  std::string reason;
  std::string message;
  std::string node;
  std::string machine_group;
  std::string gpu_model;
  int32_t gpu_count = 0;
  std::string url;
  std::vector<WorkspaceCondition> conditions;
  // While the pod waits in line (queue_position > 0): its place, the line's length, the
  // estimated start (RFC 3339, "" = none) and what the estimate assumes or why there is none.
  int32_t queue_position = 0;
  int32_t queue_length = 0;
  std::string estimated_start;
  std::string estimate_note;
  bool operator==(const WorkspaceStatus&) const = default;
};

// Checks spec as the API server's schema does and more (image characters, Secret and claim
// names, absolute mount paths): kInvalidArgument naming the field ("spec.machine.type: ...").
absl::StatusOr<WorkspaceRequest> ParseWorkspaceSpec(const rapidjson::Value& workspace);

// A Workspace object named `name` in `ns` of `member`, asking for `request` (typed builder).
absl::StatusOr<rapidjson::Document> BuildWorkspace(std::string_view ns, std::string_view name,
                                                   std::string_view member,
                                                   const WorkspaceRequest& request);

// The status as written (a missing status reads as the zero WorkspaceStatus).
WorkspaceStatus ReadStatus(const rapidjson::Value& workspace);
// {"status": {...}}: a merge patch of the status subresource that sets every field of `status`
// (queue: null when not in line, so the field and its printer column go away).
absl::StatusOr<std::string> StatusPatch(const WorkspaceStatus& status);

// "Waiting", "Starting", "Running", "Failed", "Stopping" ("" for others) and back.
std::string_view PhaseName(gw::Phase phase);
gw::Phase PhaseFromName(std::string_view name);

// The member's view (gateway.proto Workspace) of a Workspace object, as of `now`: spec, status
// and age. Without a status yet (the controller has not seen it), phase STARTING, reason
// Pending. The access token is not in the object: the caller adds it.
gw::Workspace WorkspaceView(const rapidjson::Value& workspace, std::string_view member,
                            absl::Time now);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_OBJECT_H_
