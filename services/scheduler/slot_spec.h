// What a slot of a machine type looks like on a pod: the reservation pod that locks it, and the
// resources / node affinity / tolerations a guest gets when the slot is handed over to it.
// Pure functions of the machine type and node; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_SLOT_SPEC_H_
#define LABKUBE_SERVICES_SCHEDULER_SLOT_SPEC_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "services/scheduler/model.h"

namespace labkube::scheduler {

struct ReservationOptions {
  std::string ns = "labkube-system";
  std::string image = "registry.k8s.io/pause:3.10";
  std::string priority_class = "labkube-reservation";
};

// A do-nothing pod whose requests = limits = the type's resources (Guaranteed QoS), pinned to
// `node` by required node affinity, tolerating the type's taint, owned by the Machine; named by
// the API server from metadata.generateName "<group>-<type>-". Built with kube::Builder: a
// mistake (e.g. a group whose Machine has no uid yet) is a kInternal error naming the pod.
absl::StatusOr<rapidjson::Document> ReservationPod(const MachineGroup& group,
                                                   const MachineType& type, const std::string& node,
                                                   const ReservationOptions& options);

struct Requirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
};

struct TolerationSpec {
  std::string key;
  std::string op;  // Equal | Exists
  std::string value;
  std::string effect;
};

// What the injector writes into a guest pod that received a slot.
struct GuestSpec {
  std::map<std::string, std::string> resources;  // requests = limits
  std::vector<Requirement> node_affinity;        // ANDed into every nodeSelectorTerm
  std::vector<TolerationSpec> tolerations;
};

// `node` is the node the slot is on; `hostname` its kubernetes.io/hostname label (its name if
// it has none).
GuestSpec GuestSpecFor(const MachineGroup& group, const MachineType& type, const std::string& node,
                       const std::string& hostname);

// What a guest waiting in line for the type gets at admission: the type's resources, affinity
// to the type's ready nodes (not yet to one node: the handover adds that), and the tolerations
// of every node that serves the type.
GuestSpec QueuedGuestSpec(const MachineGroup& group, const MachineType& type);

// A tainted pool node carries one taint per machine type it serves, so a pod that lands there
// must tolerate all of them: labkube.io/<type>=<group>:NoSchedule for each.
std::vector<TolerationSpec> TolerationsFor(const MachineGroup& group, const std::string& node);

// requests = limits of the machine type: cpu, memory and the GPU resource if any.
std::map<std::string, std::string> SlotResources(const MachineType& type);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_SLOT_SPEC_H_
