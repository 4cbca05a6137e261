// WorkspacePhase: what a member sees about a workspace, derived from its Deployment, its pods
// and recent events (pure function; the manager gathers the objects):
//   WAITING  no machine yet: the injector refused the pod for lack of a slot (ReplicaSet
//            FailedCreate / Deployment ReplicaFailure saying "no free ... slot" or "in
//            maintenance or not ready"), the pod waits in line for a slot (gated by
//            labkube.io/queue: reason InLine, `queued_pod` set so the caller can add its place
//            from the scheduler's queue), or the pod is unschedulable or not yet scheduled;
//   STARTING the pod has a node (or is being created) but is not ready: image pull, start;
//   RUNNING  the pod is Ready;
//   FAILED   cannot start without a change: other admission refusals (unknown type, quota),
//            image pull errors, crash loops, bad config, a failed/finished pod;
//   STOPPING the Deployment is being deleted.
// reason is short CamelCase, message the human detail (latest Warning event when there is one).
//
// Free functions, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_STATUS_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_STATUS_H_

#include <string>
#include <vector>

#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "rapidjson/document.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

struct PhaseInfo {
  gw::Phase phase = gw::PHASE_UNSPECIFIED;
  std::string reason;
  std::string message;
  std::string node;
  std::string queued_pod;  // WAITING InLine: the pod that waits in line
};

// `pods`: the workspace's pods; `events`: events of the namespace (any; those about the
// workspace's pods and ReplicaSets are picked by name).
PhaseInfo WorkspacePhase(const rapidjson::Value& deployment,
                         const std::vector<const rapidjson::Value*>& pods,
                         const std::vector<const rapidjson::Value*>& events);

// The pod's Ready condition is True (what RUNNING means for the workspace's newest pod).
bool PodReady(const rapidjson::Value& pod);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_STATUS_H_
