// The queue of one machine type: in which order waiting guests get the slots that free.
//
// The rule (docs/queue.md), applied one slot at a time:
//   1. higher priority first (Machine spec.queuePriority, per namespace; unlisted: 0);
//   2. then the member (namespace) holding fewer slots of the type goes first, counting the
//      slots already handed out in this order (so two members waiting take turns);
//   3. then first come, first served (the pod's creationTimestamp), then namespace and name.
// A member at one of its caps (maxPerMember of the type or of the group) is passed over until
// one of its slots ends; its pods come last, in the same order among themselves.
// Everything the order depends on is in the cluster (the waiting pods, the guests, the
// Machine), so any scheduler replica computes the same queue.
// Pure functions; thread-compatible.
#ifndef LABKUBE_SERVICES_SCHEDULER_QUEUE_H_
#define LABKUBE_SERVICES_SCHEDULER_QUEUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "services/scheduler/model.h"

namespace labkube::scheduler {

struct QueueOrder {
  std::vector<const WaitingPod*> pods;  // the order slots go in
  // The first `eligible` of `pods` may take a slot now (the rest are at a cap).
  size_t eligible = 0;
};

// `held_of_type`: namespace -> slots of `type` held (guests not finished + live claims);
// `held_in_group`: namespace -> slots of every type of `group` held.
QueueOrder OrderQueue(const MachineGroup& group, const MachineType& type,
                      std::vector<const WaitingPod*> waiting,
                      std::map<std::string, int32_t> held_of_type,
                      std::map<std::string, int32_t> held_in_group);

// The latest times the first `n` pods of a queue start, if every guest runs to its time
// limit: `busy_until` has one entry per slot of the type (when its guest's limit and grace end;
// `now` for a free slot), and each slot handed on is busy for `run` more. Earlier guests ending
// early only make starts earlier.
std::vector<absl::Time> LatestStarts(std::vector<absl::Time> busy_until, absl::Duration run,
                                     size_t n);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_QUEUE_H_
