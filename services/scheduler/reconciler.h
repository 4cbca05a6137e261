// Reconciler: one pass turns the SchedulerState into a Plan and, on the leader, acts on it:
// creates and deletes reservation pods, labels/taints pool nodes, keeps the Machines' status.
// Machines carry no finalizer (a deleted Machine's reservation pods and node marks go on the next
// pass, since they belong to no group any more), so deleting Machines, or the CRD with labkube
// (`kubectl delete -k`), never waits for a scheduler; the finalizer of older versions
// (kFinalizer) is taken off. Every write is idempotent and checked by the next pass, so a failed
// write is simply retried; writes are reported to the state as expectations so the next pass,
// which may run before the watch shows them, does not repeat them.
//
// Borrows the client, state and clock (they must outlive it). Not thread-safe: one thread (the
// controller loop) calls RunOnce.
#ifndef LABKUBE_SERVICES_SCHEDULER_RECONCILER_H_
#define LABKUBE_SERVICES_SCHEDULER_RECONCILER_H_

#include <map>
#include <string>

#include "lib/clock.h"
#include "lib/contract.h"
#include "lib/kube/client.h"
#include "services/scheduler/planner.h"
#include "services/scheduler/queue_notices.h"
#include "services/scheduler/scheduler_state.h"
#include "services/scheduler/slot_spec.h"

namespace labkube::scheduler {

// Put on Machines by versions before the in-cluster install; removed on sight.
inline constexpr const auto& kFinalizer = contract::kCleanupFinalizer;

struct ReconcilerOptions {
  ReservationOptions reservation;
  std::string identity = "labkube-scheduler";  // the replica, on the Events it writes
};

struct PassResult {
  PlannerInput input;
  Plan plan;
  int writes = 0;
  int errors = 0;
};

class Reconciler {
 public:
  Reconciler(kube::Client& client, SchedulerState& state, Clock& clock, ReconcilerOptions options);

  // Plans from the current state; writes only when `leader`.
  PassResult RunOnce(bool leader);

 private:
  void ExpireClaims();
  // Hands free slots to waiting pods (Plan::handover): claim, reservation pod deleted (UID
  // precondition), pod patched (handover.h); a failed step gives the claim back.
  void HandOver(PassResult& r);
  absl::Status HandOverOne(const Handover& h);
  void CreateReservations(PassResult& r);
  void RemoveReservations(PassResult& r);
  void SyncNodes(PassResult& r);
  void SyncMachines(PassResult& r);
  void DropFinalizer(const rapidjson::Value& machine, PassResult& r);
  void Count(const absl::Status& s, PassResult& r, const char* what, const std::string& name);

  kube::Client& client_;
  SchedulerState& state_;
  Clock& clock_;
  const ReconcilerOptions options_;
  QueueNotices notices_;
  std::map<std::string, std::string> last_status_;  // machine name -> last status patch written
  // Waiting pod (ns/name) -> when a failed handover to it may be tried again (so a pod the API
  // server refuses to patch costs one write per kHandoverBackoff, not one per pass).
  std::map<std::string, absl::Time> handover_retry_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_RECONCILER_H_
