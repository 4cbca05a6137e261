// Plain domain types of the scheduler: machine groups as declared by Machine objects, nodes as
// the scheduler sees them, and the pods that hold slots (reservation pods and guests).
// No Kubernetes or gRPC types here; values only; thread-compatible.
#ifndef LABKUBE_SERVICES_SCHEDULER_MODEL_H_
#define LABKUBE_SERVICES_SCHEDULER_MODEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "lib/contract.h"

namespace labkube::scheduler {

// Label, annotation and taint keys labkube puts on objects.
// The names shared with other services come from the one contract (lib/contract.h).
using contract::kClaimAnnotation;
using contract::kGroupLabel;
using contract::kNodeAnnotation;
using contract::kNodePoolLabel;  // ready|maintenance|not-ready
using contract::kRoleGuest;
using contract::kRoleLabel;
using contract::kRoleReservation;
using contract::kTypeLabel;
inline constexpr const char* kLabelPrefix = contract::kPrefix;  // + type name: node label/taint

// The node's pod count ("pods" in allocatable): every pod takes one.
inline constexpr char kPodsResource[] = "pods";

// CPU in millicores, memory in bytes, extended resources (nvidia.com/gpu, pods) in units.
struct Resources {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  std::map<std::string, int64_t> extended;

  bool Covers(const Resources& need) const;  // every dimension of need fits in *this
  Resources& operator+=(const Resources& other);
  Resources& operator-=(const Resources& other);
};

// a + b held at the int64 limits instead of overflowing.
int64_t SaturatingAdd(int64_t a, int64_t b);

// r plus the one pod it runs in.
Resources PodSlot(const Resources& r);

struct GpuSpec {
  std::string resource = "nvidia.com/gpu";
  int64_t count = 0;
  std::string family;   // nvidia.com/gpu.family
  std::string product;  // nvidia.com/gpu.product
  std::string machine;  // nvidia.com/gpu.machine
};

struct MachineType {
  std::string name;
  std::string cpu;     // the quantity as declared ("8000m"), used when injecting
  std::string memory;  // "32Gi"
  GpuSpec gpu;
  Resources resources;  // parsed cpu/memory/gpu
  int32_t available = 0;
  int32_t max_per_member = 0;  // slots of this type one namespace may hold; 0 = no cap
  // spec.machineTypes[].queueing: a guest with no free slot waits in line (Enabled, the
  // default) or is refused (Disabled: imperator's behaviour).
  bool queueing = true;
  // spec.machineTypes[].maxRuntime: a guest running longer is warned, then ended after a grace
  // period; the queue's estimates use it. Zero: no limit.
  absl::Duration max_runtime = absl::ZeroDuration();
};

enum class PoolMode { kReady, kMaintenance };

struct PoolNode {
  std::string node;
  PoolMode mode = PoolMode::kReady;
  bool taint = false;
  std::vector<std::string> machine_types;
};

// One Machine object = one machine group.
struct MachineGroup {
  std::string machine_name;  // metadata.name
  std::string machine_uid;
  int64_t generation = 0;
  std::string group;  // label labkube.io/machine-group, else metadata.name
  std::vector<MachineType> types;
  std::vector<PoolNode> pool;
  int32_t max_per_member = 0;  // slots of the whole group one namespace may hold; 0 = no cap
  // spec.queuePriority: namespace -> priority (higher goes first in every queue of the group;
  // unlisted namespaces 0).
  std::map<std::string, int32_t> queue_priority;
  bool deleting = false;

  const MachineType* FindType(const std::string& name) const;
};

enum class NodeCondition { kReady, kNotReady, kMaintenance };
const char* NodeConditionName(NodeCondition c);   // "Ready", "NotReady", "Maintenance"
const char* NodePoolLabelValue(NodeCondition c);  // "ready", "not-ready", "maintenance"

struct NodeInfo {
  std::string name;
  bool ready = false;  // Ready=True and none of the not-ready/unreachable/... taints
  bool unschedulable = false;
  Resources allocatable;
  Resources used_by_others;  // requests of pods that are neither reservations nor guests
  std::map<std::string, std::string> labels;
};

enum class SlotRole { kReservation, kGuest };

// A reservation pod or a guest pod: something that holds one slot of a machine type.
struct SlotPod {
  SlotRole role = SlotRole::kReservation;
  std::string ns;
  std::string name;
  std::string uid;
  std::string group;
  std::string type;
  std::string node;  // spec.nodeName, else the node it is pinned to
  bool running = false;
  bool terminating = false;  // deletionTimestamp set
  bool finished = false;     // Succeeded or Failed
  std::string claim_id;      // guests: the claim annotation
  absl::Time created;
  absl::Time started = absl::InfinitePast();  // status.startTime (guests; InfinitePast: not yet)
};

// A guest past its type's maxRuntime is warned, and ended this long after the limit.
inline constexpr absl::Duration kRuntimeGrace = absl::Minutes(15);

// A guest admitted to wait for a slot (scheduling gate kQueueGate, a valid queue ticket).
struct WaitingPod {
  std::string ns;
  std::string name;
  std::string uid;
  std::string group;
  std::string type;
  absl::Time created;  // the API server's creationTimestamp: the queue's order
  // What the handover patch needs: how many required nodeSelectorTerms the pod has, and where
  // the gate is in spec.schedulingGates.
  int affinity_terms = 0;
  int gate_index = 0;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_MODEL_H_
