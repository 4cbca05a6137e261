// The planner: from machine groups, nodes, slot-holding pods and live claims, decides which
// reservation pods should exist (create / remove) and what every machine type's usage is.
//
// A pure function of its inputs, so the controller can call it after every change and tests
// can drive it with plain values. Per machine type it keeps
//   reserved target = min(available, fits) - used,  used = live guests + pending claims,
// packing the types of a group onto its ready nodes: GPU-heavy types first, each new slot on the
// node that leaves the least room (best fit), existing reservation pods kept where they are.
// When guests of a type wait in line (queue.h), the free slots go to them in queue order
// instead: a running reservation pod is handed over, a slot that would get a new reservation
// pod is handed over directly.
// Capacity of a node = allocatable - requests of pods that are neither reservations nor guests.
// Thread-compatible (no state).
#ifndef LABKUBE_SERVICES_SCHEDULER_PLANNER_H_
#define LABKUBE_SERVICES_SCHEDULER_PLANNER_H_

#include <map>
#include <string>
#include <vector>

#include "services/scheduler/model.h"

namespace labkube::scheduler {

// A claim handed out whose guest pod has not been seen yet: it holds its slot on `node`.
struct LiveClaim {
  std::string id;
  std::string group;
  std::string type;
  std::string node;
  std::string ns;  // the member it was given to ("" when unknown: inferred claims)
  std::string pod;  // the pod's name (or generateName + "*")
};

struct PlannerInput {
  std::vector<MachineGroup> groups;
  std::map<std::string, NodeInfo> nodes;
  std::vector<SlotPod> pods;  // reservation pods and guests (with a claim annotation)
  std::vector<LiveClaim> claims;
  std::vector<WaitingPod> waiting;  // guests admitted to wait in line (queue.h)
  absl::Time now = absl::InfinitePast();  // for the queue's estimates
  // group/type -> guests recently refused for lack of a slot (counted as waiting).
  std::map<std::string, int32_t> refused;
};

struct Placement {
  std::string group;
  std::string type;
  std::string node;
};

struct PodRef {
  std::string name;
  std::string uid;
  std::string reason;
};

struct TypeStatus {
  std::string type;
  int32_t maximum = 0;
  int32_t reserved = 0;  // running reservation pods on ready nodes (claimable)
  int32_t used = 0;
  int32_t waiting = 0;
  int32_t fits = 0;
  std::vector<std::string> nodes;        // pool nodes that serve the type
  std::vector<std::string> ready_nodes;  // ... and are ready
  // The pods still waiting for the type after this plan's handovers, in the order they get
  // slots (queue.h).
  std::vector<WaitingPod> queue;
  // For the first of them (those not held back by a cap), when each starts at the latest if
  // every guest runs to the type's maxRuntime (+ kRuntimeGrace); empty when the type has no
  // maxRuntime (then no start can be promised).
  std::vector<absl::Time> latest_start;
};

struct PoolNodeStatus {
  std::string node;
  PoolMode mode = PoolMode::kReady;
  NodeCondition condition = NodeCondition::kNotReady;
  std::string message;
};

struct GroupStatus {
  std::string machine_name;
  std::string group;
  std::vector<TypeStatus> types;
  std::vector<PoolNodeStatus> pool;
  std::vector<std::string> problems;  // each names its culprit; empty = Ready
};

// A slot given to a waiting pod: the running reservation pod of the slot is deleted (UID
// precondition) when there is one; else the slot is room on `node` that no reservation pod
// holds yet (it freed in this pass).
struct Handover {
  WaitingPod pod;
  std::string group;
  std::string type;
  std::string node;
  PodRef reservation;  // name empty: none
};

struct Plan {
  std::vector<Handover> handover;
  std::vector<Placement> create;
  std::vector<PodRef> remove;  // reservation pods to delete
  std::vector<GroupStatus> groups;
  // node -> group owning it (first Machine by name that lists it).
  std::map<std::string, std::string> node_owner;
};

Plan ComputePlan(const PlannerInput& input);

// "group/type", the key of PlannerInput::refused.
std::string TypeKey(const std::string& group, const std::string& type);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_PLANNER_H_
