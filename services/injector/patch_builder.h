// PatchBuilder: what a granted claim changes in a guest pod, as a JSON Patch (RFC 6902) against
// the pod the API server sent (request.object):
//   - the target container (named by the pod label labkube.io/injecting-container, else the
//     first container; init containers are never touched) gets requests = limits = the claim's
//     resources, less the cpu and memory the rest of the pod asks for (slot_share.h), so the
//     pod adds up to exactly the type; other resources the user set are kept; a container that
//     already asks for more cpu / memory / GPUs (compared as quantities) than it gets, or a
//     plain init container asking for more than the type, is refused;
//   - the claim's node-affinity requirements are ANDed into every required nodeSelectorTerm of
//     the pod (one new term when it has none); preferred terms and other affinities are kept;
//   - the claim's tolerations and annotations are added;
//   - a pod admitted to wait in line (claim.queued) also gets the scheduling gate
//     contract::kQueueGate, so kube-scheduler leaves it until the scheduler hands it a slot.
// Absent parents (/spec/affinity, /metadata/annotations, ...) are added whole; keys are escaped
// as JSON Pointer tokens (~0, ~1). Anything already present is not added again, so building a
// patch for a pod that already carries the claim gives no operations (reinvocation-safe).
//
// Pure functions of their arguments; safe from any thread.
#ifndef LABKUBE_SERVICES_INJECTOR_PATCH_BUILDER_H_
#define LABKUBE_SERVICES_INJECTOR_PATCH_BUILDER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/contract.h"
#include "rapidjson/document.h"
#include "services/injector/claimer.h"

namespace labkube::injector {

using contract::kInjectingContainerLabel;

// The JSON Patch operations (an array, empty when nothing is missing) that put `claim` into
// `pod`, a Pod that passed CheckPodShape (admission.h). kInvalidArgument, with a message for the
// pod's author, when the pod cannot take the claim (a container asks for more than machine type
// `machine_type` gives, the injecting-container label names no container, a field on the way is
// of the wrong type); kInternal when the claim itself is malformed.
absl::StatusOr<rapidjson::Document> BuildPatch(const rapidjson::Value& pod,
                                               const ClaimResponse& claim,
                                               std::string_view machine_type);

// The index in spec.containers of the container that receives the resources.
absl::StatusOr<size_t> TargetContainer(const rapidjson::Value& pod);

// `token` as one JSON Pointer reference token: "~" -> "~0", "/" -> "~1".
std::string EscapeJsonPointer(std::string_view token);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_PATCH_BUILDER_H_
