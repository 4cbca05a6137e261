// Reads Kubernetes objects (JSON) into the scheduler's domain types: Machine -> MachineGroup,
// Node -> NodeInfo, Pod -> SlotPod or the requests it takes from its node.
// Pure functions; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_CLUSTER_VIEW_H_
#define LABKUBE_SERVICES_SCHEDULER_CLUSTER_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/compact_object.h"
#include "rapidjson/document.h"
#include "services/scheduler/claim_signer.h"
#include "services/scheduler/model.h"

namespace labkube::scheduler {

// A Machine as declared. Fields the CRD's validation already guarantees are still checked, so
// a Machine written around validation gives problems, not crashes: problems that make a part
// unusable are returned in `problems` (each naming the field), and that part is left out.
struct ParsedMachine {
  MachineGroup group;
  std::vector<std::string> problems;
};
ParsedMachine ParseMachine(const rapidjson::Value& machine);

NodeInfo ParseNode(const rapidjson::Value& node);

// The fields of Pods and Nodes the readers below (and node_labels.h) use: what the scheduler's
// informers keep of each object (metadata is always kept whole). A reader that starts using
// another field adds it here; cluster_view_test reads every example through these masks.
const kube::FieldMask& PodFields();
const kube::FieldMask& NodeFields();

// What a pod means to the scheduler.
struct PodView {
  enum Kind { kReservation, kGuest, kWaiting, kOther, kIgnored } kind = kIgnored;
  SlotPod slot;         // kReservation, kGuest
  WaitingPod waiting;   // kWaiting
  std::string node;     // kOther: where its requests count
  Resources requests;   // kOther: sum over containers, max with init containers
  // kOther/kIgnored: the pod is labelled as a guest and carries a claim, but not one labkube
  // gave it (why, for the log); such a pod never holds a slot.
  std::string forged;
};

// How guests are told from pods that only look like guests.
struct GuestCheck {
  const ClaimSigner* signer = nullptr;  // borrowed; required
  // A claim is good for a pod created within this long after the claim was issued (the claim
  // TTL plus clock skew between the scheduler and the API server).
  absl::Duration window = absl::Minutes(2);
};

// The token a queue ticket (contract::kQueueTicketAnnotation) signs: `who` is the pod's name,
// or generateName + "*".
ClaimToken QueueTicket(const std::string& ns, const std::string& who, const std::string& group,
                       const std::string& type, absl::Time issued);

// ClaimToken::who of a slot handed to a waiting pod: bound to the pod's uid, which no other
// pod ever has (so the claim cannot be copied, and the pod's age does not matter).
std::string HandoverWho(const std::string& uid);

// `reservation_ns`: where labkube's reservation pods live. A pod is a guest only when it is
// labelled as one and its claim signature (claim_signer.h) matches its namespace, name, group,
// type and node, and it was created within `check.window` of the claim. A pod labelled as a
// guest without a claim, gated by contract::kQueueGate, is kWaiting when its queue ticket
// matches the same way (otherwise an ordinary pod: it never enters the queue).
PodView ClassifyPod(const rapidjson::Value& pod, const std::string& reservation_ns,
                    const GuestCheck& check);

// `pod` as an ordinary pod (neither reservation nor guest): its requests count on the node it is
// bound to; kIgnored when unbound or finished. `why` is kept as PodView::forged.
PodView OrdinaryPod(const rapidjson::Value& pod, std::string why = "");

// The pod's effective requests (sum of containers, at least the largest init container, plus
// overhead).
Resources PodRequests(const rapidjson::Value& pod);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CLUSTER_VIEW_H_
