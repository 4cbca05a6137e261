// SchedulerState's queue: pods waiting in line (queue.h), the answer to a guest that must wait,
// and the claims of slots handed to waiting pods. Part of scheduler_state (same class, same
// mutex; split only to keep each file readable).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/scheduler/queue.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {
namespace {

std::string PodKey(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

std::string ClaimedName(const ClaimQuery& q) {
  return q.pod_name.empty() ? q.generate_name + "*" : q.pod_name;
}

}  // namespace

bool SchedulerState::Handed(const std::string& key) {
  auto it = handed_.find(key);
  if (it == handed_.end()) return false;
  if (claims_.Find(it->second) != nullptr) return true;
  handed_.erase(it);  // its claim was given back or expired: the pod waits again
  return false;
}

size_t SchedulerState::Waiting(const MachineGroup& g, const MachineType& t) {
  auto it = waiting_by_type_.find(TypeKey(g.group, t.name));
  if (it == waiting_by_type_.end()) return 0;
  size_t n = 0;
  for (const std::string& key : it->second) n += !Handed(key);
  return n;
}

void SchedulerState::HeldMaps(const MachineGroup& g, const std::string& type,
                              std::map<std::string, int32_t>& of_type,
                              std::map<std::string, int32_t>& in_group) {
  for (const MachineType& t : g.types) {
    auto guests = guests_by_type_.find(TypeKey(g.group, t.name));
    if (guests == guests_by_type_.end()) continue;
    for (const std::string& key : guests->second) {
      const SlotPod& p = pods_.at(key)->slot;
      if (p.finished) continue;
      ++in_group[p.ns];
      if (t.name == type) ++of_type[p.ns];
    }
  }
  for (const LiveClaim& c : claims_.Live()) {
    if (c.group != g.group) continue;
    ++in_group[c.ns];
    if (c.type == type) ++of_type[c.ns];
  }
}

ClaimDecision SchedulerState::Queue(const ClaimQuery& q, const MachineGroup& g,
                                    const MachineType& t) {
  ClaimDecision d;
  d.queued = true;
  d.record.group = g.group;
  d.record.type = t.name;
  d.record.ns = q.ns;
  d.record.pod_name = ClaimedName(q);
  d.spec = QueuedGuestSpec(g, t);
  absl::Time now = clock_.Now();
  if (!q.dry_run) d.ticket = signer_.Sign(QueueTicket(q.ns, ClaimedName(q), g.group, t.name, now));
  // Where it would stand: the queue as it is, with this pod in it.
  std::vector<const WaitingPod*> line;
  if (auto it = waiting_by_type_.find(TypeKey(g.group, t.name)); it != waiting_by_type_.end()) {
    for (const std::string& key : it->second) {
      if (!Handed(key)) line.push_back(&pods_.at(key)->waiting);
    }
  }
  WaitingPod self{q.ns, ClaimedName(q), "", g.group, t.name, now};
  line.push_back(&self);
  std::map<std::string, int32_t> of_type, in_group;
  HeldMaps(g, t.name, of_type, in_group);
  QueueOrder order = OrderQueue(g, t, std::move(line), of_type, in_group);
  auto at = std::find(order.pods.begin(), order.pods.end(), &self);
  d.position = static_cast<int32_t>(at - order.pods.begin()) + 1;
  return d;
}

absl::StatusOr<ClaimDecision> SchedulerState::HandOver(const Handover& h) {
  absl::MutexLock lock(&mu_);
  std::string key = PodKey(h.pod.ns, h.pod.name);
  auto pod = pods_.find(key);
  if (pod == pods_.end() || pod->second->kind != PodView::kWaiting ||
      pod->second->waiting.uid != h.pod.uid || Handed(key)) {
    return absl::FailedPreconditionError(absl::StrCat(key, " no longer waits"));
  }
  const MachineGroup* g = FindGroup(h.group);
  const MachineType* t = g == nullptr ? nullptr : g->FindType(h.type);
  if (t == nullptr) return absl::NotFoundError(absl::StrCat("unknown machine type ", h.type));
  const std::string& uid = h.reservation.uid;
  if (!uid.empty() && (claims_.IsReservationClaimed(uid) || expected_deletes_.count(uid) > 0)) {
    return absl::FailedPreconditionError(absl::StrCat("reservation ", h.reservation.name,
                                                      " was taken meanwhile"));
  }
  ClaimRecord r{NewClaimId(), "",      h.group, h.type, h.node, h.pod.ns, h.pod.name,
                h.reservation.name, uid, absl::InfiniteFuture()};
  absl::Time now = clock_.Now();
  r.signature = signer_.Sign({r.id, r.ns, HandoverWho(h.pod.uid), r.group, r.type, r.node, now});
  const ClaimRecord& added = claims_.Add(std::move(r), now);
  handed_[key] = added.id;
  Changed(Change::kStatus);
  return DecisionFor(added, *g, *t, false);
}

}  // namespace labkube::scheduler
