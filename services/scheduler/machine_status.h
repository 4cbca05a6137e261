// The status a Machine should carry: imperator's availableMachines[].usage plus fits, nodes,
// nodePool conditions, a Ready condition naming every problem, observedGeneration and a
// short summary for `kubectl get machines`. Pure function; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_MACHINE_STATUS_H_
#define LABKUBE_SERVICES_SCHEDULER_MACHINE_STATUS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "services/scheduler/planner.h"

namespace labkube::scheduler {

// A JSON merge patch {"status": {...}} for the status subresource. `group` may be null (the
// Machine declares nothing usable). `machine` is the current object: an unchanged Ready
// condition keeps its lastTransitionTime.
std::string MachineStatusPatch(const rapidjson::Value& machine, const GroupStatus* group,
                               const std::vector<std::string>& problems, absl::Time now);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_MACHINE_STATUS_H_
