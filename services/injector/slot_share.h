// How a guest pod's containers share its slot. The machine type's cpu and memory are the pod's
// whole budget: what the other containers (regular containers and sidecar init containers,
// restartPolicy: Always) and the pod's overhead ask for is taken out of it, and the target
// container gets the rest, so the pod's requests add up to exactly the type. GPUs and other
// extended resources go to the target alone. A plain init container runs alone, before the
// others, and may ask up to the whole type (patch_builder.h checks that).
//
// Quantities are parsed one at a time and summed with saturation, so requests such as two
// containers with `memory: 7Ei` are refused as too large instead of overflowing.
// Pure functions; safe from any thread.
#ifndef LABKUBE_SERVICES_INJECTOR_SLOT_SHARE_H_
#define LABKUBE_SERVICES_INJECTOR_SLOT_SHARE_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "services/injector/claimer.h"

namespace labkube::injector {

// Checked before a slot is claimed (it needs no machine type): no container beside the target
// (index `target` in spec.containers), no sidecar init container and no overhead asks for an
// extended resource (nvidia.com/gpu, ...), and every cpu and memory quantity there parses.
// kInvalidArgument naming the container, the resource and what to do otherwise.
absl::Status CheckSidecars(const rapidjson::Value& pod, size_t target);

// `claim` with the target's cpu and memory reduced by what the rest of the pod asks for
// (unchanged when the rest asks for none). kInvalidArgument when the rest asks for the whole
// type's cpu or memory, or more.
absl::StatusOr<ClaimResponse> ShareSlot(const rapidjson::Value& pod, size_t target,
                                        ClaimResponse claim, std::string_view machine_type);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_SLOT_SHARE_H_
