// What labkube puts on each node of a node pool, and the merge patch that gets a node there.
//
// For a node owned by group G serving machine types T1..Tn:
//   labels       labkube.io/<Ti>=G, labkube.io/node-pool=ready|maintenance|not-ready
//   annotation   labkube.io/machine-group=G
//   taints       labkube.io/<Ti>=G:NoSchedule (when the pool entry says taint: true)
// A node that carries labkube keys but is in no pool gets all of them removed. Keys under
// labkube.io/ are labkube's; everything else on the node is left as it is.
// Pure functions; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_NODE_LABELS_H_
#define LABKUBE_SERVICES_SCHEDULER_NODE_LABELS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rapidjson/document.h"
#include "services/scheduler/planner.h"

namespace labkube::scheduler {

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  bool operator==(const Taint&) const = default;
};

struct NodeMarks {
  std::map<std::string, std::string> labels;       // labkube.io/ keys only
  std::map<std::string, std::string> annotations;  // labkube.io/ keys only
  std::vector<Taint> taints;                       // labkube.io/ keys only
};

// node name -> what labkube wants on it, for every node in some pool.
std::map<std::string, NodeMarks> DesiredMarks(const std::vector<MachineGroup>& groups,
                                              const Plan& plan);

// The JSON merge patch (with metadata.resourceVersion, so a stale view fails with a conflict)
// that makes `node` carry exactly `want` among labkube's keys; nullopt when nothing differs.
std::optional<std::string> NodeMarksPatch(const rapidjson::Value& node, const NodeMarks& want);

// True if the node carries any labkube label, annotation or taint.
bool HasMarks(const rapidjson::Value& node);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_NODE_LABELS_H_
