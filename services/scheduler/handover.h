// The write that hands a slot to a waiting pod: one JSON Patch (RFC 6902) of the pod that
//   - tests its uid (a pod of the same name created meanwhile is never touched) and that the
//     gate is where the scheduler saw it,
//   - adds the claim annotations (labkube.io/claim, labkube.io/node, labkube.io/claim-signature),
//   - narrows every required nodeSelectorTerm to the slot's node (kubernetes.io/hostname In
//     [node]): the API server allows adding requirements to a pod while it is gated (its
//     tolerations, of every node of the type, were set at admission),
//   - removes the gate.
// The API server applies it whole or not at all. Pure function; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_HANDOVER_H_
#define LABKUBE_SERVICES_SCHEDULER_HANDOVER_H_

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "services/scheduler/model.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {

// `decision`: SchedulerState::HandOver's answer for `pod`.
absl::StatusOr<rapidjson::Document> HandoverPatch(const WaitingPod& pod,
                                                  const ClaimDecision& decision);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_HANDOVER_H_
