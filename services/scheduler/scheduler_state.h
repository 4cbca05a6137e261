// SchedulerState: the scheduler's view of the cluster (Machines, Nodes, slot-holding pods and
// the requests of every other pod), its live claims, and the writes it has made but not yet
// seen come back through its watches ("expectations", so a reconcile never acts twice).
//
// Informer callbacks feed it (On*), the reconciler takes planner snapshots from it, and Claim
// decisions are made here under one mutex, which is what guarantees that no reserved slot is
// handed to two pods. Owns nothing outside itself; the clock is borrowed.
// Thread-safe: every public method takes the mutex.
#ifndef LABKUBE_SERVICES_SCHEDULER_SCHEDULER_STATE_H_
#define LABKUBE_SERVICES_SCHEDULER_SCHEDULER_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "lib/clock.h"
#include "rapidjson/document.h"
#include "services/scheduler/claim_signer.h"
#include "services/scheduler/claims.h"
#include "services/scheduler/cluster_view.h"
#include "services/scheduler/planner.h"
#include "services/scheduler/slot_spec.h"

namespace labkube::scheduler {

struct ClaimQuery {
  std::string group;
  std::string type;
  std::string ns;
  std::string pod_name;  // or generate_name
  std::string generate_name;
  std::string admission_uid;
  bool dry_run = false;
  // The claim annotations the pod already carries (the webhook is re-invoked for a pod it
  // patched before): replayed only if that claim is live and was made for this very pod.
  std::string carried_claim;
  std::string carried_signature;
};

struct ClaimDecision {
  ClaimRecord record;
  GuestSpec spec;
  bool replayed = false;  // the same admission uid was answered before: nothing to delete
  // No slot is free (or others wait for one) and the type queues: the pod is admitted to wait
  // in line with `spec` (the type's resources, affinity to its nodes, their tolerations) and
  // this queue ticket (contract::kQueueTicketAnnotation); `record` names only the group,
  // type, namespace and pod (no claim id, node or signature).
  bool queued = false;
  std::string ticket;
  int32_t position = 0;  // 1-based, as it would stand now
};

class SchedulerState {
 public:
  // `signer` (borrowed) signs claims and checks the guests' signatures.
  SchedulerState(Clock& clock, absl::Duration claim_ttl, std::string reservation_ns,
                 const ClaimSigner& signer);

  void OnMachine(std::shared_ptr<const rapidjson::Document> machine);
  void OnMachineDeleted(const std::string& name);
  void OnNode(std::shared_ptr<const rapidjson::Document> node);
  void OnNodeDeleted(const std::string& name);
  void OnPod(const rapidjson::Value& pod);
  void OnPodDeleted(const std::string& ns, const std::string& name);

  // Picks a running reservation pod of the type on a ready node and records a claim on it
  // (unless dry_run). The caller then deletes that reservation pod; see FinishClaim.
  absl::StatusOr<ClaimDecision> Reserve(const ClaimQuery& query);
  // Records the claim of a slot handed to a waiting pod (the reconciler then deletes the
  // slot's reservation pod, if any, and patches the pod): signed for the pod's uid. Fails when
  // the pod no longer waits or the reservation pod is already taken.
  absl::StatusOr<ClaimDecision> HandOver(const Handover& handover);
  // The reservation pod of a claim could not be deleted: forget the claim.
  void AbandonClaim(const std::string& claim_id);
  // The claim's pod will not be created: forget the claim if it is still unbound and
  // `signature` is its own (the slot is re-locked by the next pass). False when unknown,
  // already bound, expired or wrongly signed.
  bool ReleaseClaim(const std::string& claim_id, const std::string& signature);

  // Writes the reconciler made; they count until the watch shows them (or `ttl` passes).
  void ExpectCreate(const std::string& pod_name, const Placement& placement);
  // Call before the delete is sent (so its watch event is never taken for another replica's);
  // ForgetDelete when the delete failed.
  void ExpectDelete(const std::string& pod_uid);
  void ForgetDelete(const std::string& pod_uid);

  // Drops expired claims and expectations; returns the claims that expired.
  std::vector<ClaimRecord> Expire();
  PlannerInput Snapshot();
  // Current objects of Nodes (for label patches) and Machines (finalizers, status), by name.
  std::map<std::string, std::shared_ptr<const rapidjson::Document>> NodeObjects();
  std::map<std::string, std::shared_ptr<const rapidjson::Document>> MachineObjects();
  // Problems found while parsing each Machine, by Machine name.
  std::map<std::string, std::vector<std::string>> ParseProblems();

  // Changes come in two kinds. Most move only the numbers a pass publishes (a claim granted or
  // refused, its reservation pod leaving as expected, its guest appearing or starting, a node's
  // heartbeat): a pass for them can wait. The others can change what the plan does (a guest
  // ended, a reservation pod deleted by someone else, a node or Machine changed).
  struct Versions {
    uint64_t plan = 0;  // changes the plan depends on
    uint64_t any = 0;   // every change
  };
  Versions version();
  // Blocks until a plan change after `seen`, or `status_delay` after the first status-only
  // change after `seen` (so a storm of claims costs one pass per status_delay, and a claim
  // never competes with a pass per claim), or `timeout`. Returns the versions then.
  Versions WaitForChange(Versions seen, absl::Duration timeout, absl::Duration status_delay);

 private:
  struct Expected {
    Placement placement;
    absl::Time deadline;
  };

  enum class Change { kPlan, kStatus };
  void Changed(Change change = Change::kPlan) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++version_;
    if (change == Change::kPlan) ++plan_version_;
  }
  // What an update of a pod from `old_view` (nullptr: first sight) to `view` changes.
  Change PodChange(const PodView* old_view, const PodView& view) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const MachineGroup* FindGroup(const std::string& group) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NodeServes(const MachineGroup& g, const std::string& node, const std::string& type) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status NoSlotError(const MachineGroup& g, const MachineType& t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pods waiting for the type that hold no claim yet.
  size_t Waiting(const MachineGroup& g, const MachineType& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ClaimDecision Queue(const ClaimQuery& q, const MachineGroup& g, const MachineType& t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the waiting pod `key` has been handed a slot whose claim is still live.
  bool Handed(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // namespace -> slots held of `type` and of the whole group (guests not finished, claims).
  void HeldMaps(const MachineGroup& g, const std::string& type,
                std::map<std::string, int32_t>& of_type, std::map<std::string, int32_t>& in_group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Slots of `type` (or of every type of the group when empty) held in namespace `ns`: running
  // or pending guests and live claims.
  int32_t HeldBy(const MachineGroup& g, const std::string& type, const std::string& ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The member's caps of the Machine (maxPerMember of the type and of the group), or OK.
  absl::Status CheckMemberCaps(const MachineGroup& g, const MachineType& t, const std::string& ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const SlotPod* PickReservation(const MachineGroup& g, const MachineType& t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewClaimId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ClaimDecision> Replay(const ClaimQuery& q, const MachineGroup& g,
                                       const MachineType& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ClaimDecision DecisionFor(const ClaimRecord& r, const MachineGroup& g, const MachineType& t,
                            bool replayed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether another pod already holds claim `claim_id`, or held it and ended; otherwise records
  // `key` as its holder.
  bool ClaimTaken(const std::string& key, const std::string& claim_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Index(const std::string& key, const PodView& view, bool add)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The reservation pods this replica is creating, as planner pods.
  void AddExpectedCreates(PlannerInput& in) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const std::string reservation_ns_;
  const ClaimSigner& signer_;
  const GuestCheck guest_check_;
  absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t plan_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, ParsedMachine> machines_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const rapidjson::Document>> machine_objects_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, NodeInfo> nodes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const rapidjson::Document>> node_objects_
      ABSL_GUARDED_BY(mu_);
  // "ns/name" -> immutable view, shared so Snapshot copies pointers under the lock and builds
  // the planner's pods outside it (a claim never waits for a copy of every pod).
  std::map<std::string, std::shared_ptr<const PodView>> pods_ ABSL_GUARDED_BY(mu_);
  // TypeKey(group, type) -> keys of its reservation pods / guests, so a claim looks only at
  // the pods of its own type.
  std::map<std::string, std::set<std::string>> reservations_by_type_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> guests_by_type_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> waiting_by_type_ ABSL_GUARDED_BY(mu_);
  ClaimTable claims_ ABSL_GUARDED_BY(mu_);
  // Waiting pod key -> the claim of the slot handed to it, until its guest shows up.
  std::map<std::string, std::string> handed_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Expected> expected_creates_ ABSL_GUARDED_BY(mu_);    // pod name
  std::map<std::string, absl::Time> expected_deletes_ ABSL_GUARDED_BY(mu_);  // pod uid
  uint64_t claim_counter_ ABSL_GUARDED_BY(mu_) = 0;
  // Claim id -> the pod key holding it (one pod per claim, whatever the annotations say), and
  // claims whose pod has ended -> when (kept for the guest window, so a copy of the annotations
  // on a new pod is not a guest).
  std::map<std::string, std::string> claim_holders_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> ended_claims_ ABSL_GUARDED_BY(mu_);
  // Reservation pods deleted by someone else (an earlier leader handing the slot to a claim
  // this replica never saw), by uid: each holds its slot like a live claim until a guest of its
  // type appears on its node or a claim TTL passes, so a new leader never hands it out again.
  struct InferredClaim {
    std::string group, type, node;
    absl::Time expires;
  };
  std::map<std::string, InferredClaim> inferred_claims_ ABSL_GUARDED_BY(mu_);
  const absl::Duration claim_ttl_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_SCHEDULER_STATE_H_
