// QueueNotices: what the leader tells members about the queue and time limits, as Events on
// their pods (kubectl describe pod / kubectl get events), and the end of guests past their
// time limit:
//   - Queued (Normal): a pod seen waiting for the first time, with its place in line and, when
//     its type has a maxRuntime, its latest start;
//   - SlotHandedOver (Normal): the node it got and how long it waited;
//   - TimeLimitReached (Warning): a guest ran its type's maxRuntime; it is ended kRuntimeGrace
//     later unless it ends first;
//   - TimeLimitExceeded (Warning): ... and now it is deleted (UID precondition).
// What was announced is kept in memory only: a new leader announces waiting pods again with
// their place then, and warns again a guest past its limit (never deletes earlier than the
// limit + grace, which the pod's own start time fixes).
//
// Borrows the client and the clock. Not thread-safe: the reconciler's thread calls it.
#ifndef LABKUBE_SERVICES_SCHEDULER_QUEUE_NOTICES_H_
#define LABKUBE_SERVICES_SCHEDULER_QUEUE_NOTICES_H_

#include <map>
#include <set>
#include <string>

#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/event_recorder.h"
#include "services/scheduler/planner.h"

namespace labkube::scheduler {

class QueueNotices {
 public:
  QueueNotices(kube::Client& client, Clock& clock, std::string identity);

  // After a pass: Queued events for pods newly in line.
  void AnnounceQueues(const Plan& plan);
  // After a handover was written.
  void HandedOver(const Handover& h);
  // Warns and ends guests past their type's maxRuntime; returns the writes it made.
  int EnforceTimeLimits(const PlannerInput& input);

 private:
  void Notice(absl::Status s, const std::string& what, const std::string& pod);

  kube::Client& client_;
  Clock& clock_;
  kube::EventRecorder events_;
  std::set<std::string> announced_;  // waiting pod uids
  std::set<std::string> warned_;     // guest uids told their limit is reached
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_QUEUE_NOTICES_H_
