#include "services/scheduler/scheduler_state.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

constexpr absl::Duration kExpectationTtl = absl::Seconds(30);

std::string PodKey(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

std::string Who(const ClaimQuery& q) {
  return PodKey(q.ns, q.pod_name.empty() ? q.generate_name + "*" : q.pod_name);
}

}  // namespace

SchedulerState::SchedulerState(Clock& clock, absl::Duration claim_ttl, std::string reservation_ns)
    : clock_(clock), reservation_ns_(std::move(reservation_ns)), claims_(claim_ttl) {}

void SchedulerState::OnMachine(std::shared_ptr<const rapidjson::Document> machine) {
  ParsedMachine parsed = ParseMachine(*machine);
  absl::MutexLock lock(&mu_);
  machine_objects_[parsed.group.machine_name] = std::move(machine);
  machines_[parsed.group.machine_name] = std::move(parsed);
  Changed();
}

void SchedulerState::OnMachineDeleted(const std::string& name) {
  absl::MutexLock lock(&mu_);
  machines_.erase(name);
  machine_objects_.erase(name);
  Changed();
}

void SchedulerState::OnNode(std::shared_ptr<const rapidjson::Document> node) {
  NodeInfo info = ParseNode(*node);
  absl::MutexLock lock(&mu_);
  node_objects_[info.name] = std::move(node);
  nodes_[info.name] = std::move(info);
  Changed();
}

void SchedulerState::OnNodeDeleted(const std::string& name) {
  absl::MutexLock lock(&mu_);
  nodes_.erase(name);
  node_objects_.erase(name);
  Changed();
}

void SchedulerState::Index(const std::string& key, const PodView& view, bool add) {
  auto* index = view.kind == PodView::kReservation ? &reservations_by_type_
                : view.kind == PodView::kGuest     ? &guests_by_type_
                                                   : nullptr;
  if (index == nullptr) return;
  std::string type = TypeKey(view.slot.group, view.slot.type);
  if (add) {
    (*index)[type].insert(key);
    return;
  }
  auto it = index->find(type);
  if (it == index->end()) return;
  it->second.erase(key);
  if (it->second.empty()) index->erase(it);
}

void SchedulerState::OnPod(const rapidjson::Value& pod) {
  PodView view = ClassifyPod(pod, reservation_ns_);
  std::string key = PodKey(std::string(json::GetString(pod, {"metadata", "namespace"})),
                           std::string(json::GetString(pod, {"metadata", "name"})));
  absl::MutexLock lock(&mu_);
  if (auto old = pods_.find(key); old != pods_.end()) Index(key, *old->second, false);
  if (view.kind == PodView::kIgnored) {
    if (pods_.erase(key) > 0) Changed();
    return;
  }
  Index(key, view, true);
  if (view.kind == PodView::kReservation) expected_creates_.erase(view.slot.name);
  if (view.kind == PodView::kGuest && claims_.Bind(view.slot.claim_id)) {
    claims_.ClearRefusal(view.slot.group, view.slot.type, key);
  }
  pods_[key] = std::make_shared<const PodView>(std::move(view));
  Changed();
}

void SchedulerState::OnPodDeleted(const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = pods_.find(PodKey(ns, name));
  if (it == pods_.end()) return;
  expected_deletes_.erase(it->second->slot.uid);
  Index(it->first, *it->second, false);
  pods_.erase(it);
  Changed();
}

const MachineGroup* SchedulerState::FindGroup(const std::string& group) const {
  for (const auto& [name, m] : machines_) {
    if (m.group.group == group && !m.group.deleting) return &m.group;
  }
  return nullptr;
}

bool SchedulerState::NodeServes(const MachineGroup& g, const std::string& node,
                                const std::string& type) const {
  for (const PoolNode& entry : g.pool) {
    if (entry.node != node || entry.mode != PoolMode::kReady) continue;
    if (std::find(entry.machine_types.begin(), entry.machine_types.end(), type) ==
        entry.machine_types.end()) {
      continue;
    }
    auto n = nodes_.find(node);
    return n != nodes_.end() && n->second.ready && !n->second.unschedulable;
  }
  return false;
}

// The first claimable reservation pod of the type (in name order): running, not leaving, not
// already claimed, on a ready node of the pool.
const SlotPod* SchedulerState::PickReservation(const MachineGroup& g, const MachineType& t) {
  auto index = reservations_by_type_.find(TypeKey(g.group, t.name));
  if (index == reservations_by_type_.end()) return nullptr;
  for (const std::string& key : index->second) {
    const SlotPod& p = pods_.at(key)->slot;
    if (!p.running || p.terminating || expected_deletes_.count(p.uid) > 0) continue;
    if (claims_.IsReservationClaimed(p.uid) || !NodeServes(g, p.node, t.name)) continue;
    return &p;
  }
  return nullptr;
}

absl::Status SchedulerState::NoSlotError(const MachineGroup& g, const MachineType& t) {
  std::vector<std::string> states;
  bool any_ready = false;
  for (const PoolNode& entry : g.pool) {
    if (std::find(entry.machine_types.begin(), entry.machine_types.end(), t.name) ==
        entry.machine_types.end()) {
      continue;
    }
    bool ready = NodeServes(g, entry.node, t.name);
    any_ready = any_ready || ready;
    states.push_back(absl::StrCat(entry.node, ": ",
                                  entry.mode == PoolMode::kMaintenance ? "maintenance"
                                  : ready                              ? "ready"
                                                                       : "not ready"));
  }
  if (!any_ready) {
    return absl::FailedPreconditionError(absl::StrCat(
        "every node of machine type ", t.name, " in group ", g.group,
        " is in maintenance or not ready (", absl::StrJoin(states, ", "),
        "); ask an admin, or pick another type (labctl machines)"));
  }
  std::vector<std::string> holders;
  int32_t used = 0;
  if (auto guests = guests_by_type_.find(TypeKey(g.group, t.name)); guests != guests_by_type_.end()) {
    for (const std::string& key : guests->second) {
      if (pods_.at(key)->slot.finished) continue;
      ++used;
      if (holders.size() < 3) holders.push_back(key);
    }
  }
  for (const LiveClaim& c : claims_.Live()) used += c.group == g.group && c.type == t.name;
  std::string held = holders.empty() ? "" : absl::StrCat("; in use by ", absl::StrJoin(holders, ", "));
  return absl::ResourceExhaustedError(
      absl::StrFormat("no free %s slot in group %s: maximum %d, used %d%s. Try again when one "
                      "is freed, or pick another type (labctl machines)",
                      t.name, g.group, t.available, used, held));
}

std::string SchedulerState::NewClaimId() {
  static absl::BitGen* gen = new absl::BitGen();
  return absl::StrFormat("c-%x-%08x", ++claim_counter_, absl::Uniform<uint32_t>(*gen));
}

absl::StatusOr<ClaimDecision> SchedulerState::Reserve(const ClaimQuery& q) {
  absl::MutexLock lock(&mu_);
  const MachineGroup* g = FindGroup(q.group);
  const MachineType* t = g == nullptr ? nullptr : g->FindType(q.type);
  if (t == nullptr) {
    std::vector<std::string> valid;
    for (const auto& [name, m] : machines_) {
      for (const MachineType& mt : m.group.types) valid.push_back(TypeKey(m.group.group, mt.name));
    }
    return absl::NotFoundError(absl::StrCat("unknown machine type ", TypeKey(q.group, q.type),
                                            "; valid group/type: ", absl::StrJoin(valid, ", ")));
  }
  if (!q.admission_uid.empty() && !q.dry_run) {
    if (const ClaimRecord* done = claims_.FindByAdmissionUid(q.admission_uid)) {
      auto hostname = nodes_[done->node].labels["kubernetes.io/hostname"];
      return ClaimDecision{
          *done, GuestSpecFor(*g, *t, done->node, hostname.empty() ? done->node : hostname), true};
    }
  }
  const SlotPod* slot = PickReservation(*g, *t);
  if (slot == nullptr) {
    if (!q.dry_run) claims_.RecordRefusal(g->group, t->name, Who(q), clock_.Now());
    Changed();
    return NoSlotError(*g, *t);
  }
  ClaimRecord r{q.dry_run ? "dry-run" : NewClaimId(), q.admission_uid, g->group, t->name,
                slot->node, q.ns, q.pod_name.empty() ? q.generate_name + "*" : q.pod_name,
                slot->name, slot->uid, absl::InfiniteFuture()};
  auto hostname = nodes_[slot->node].labels["kubernetes.io/hostname"];
  ClaimDecision decision{
      r, GuestSpecFor(*g, *t, slot->node, hostname.empty() ? slot->node : hostname), false};
  if (!q.dry_run) {
    decision.record = claims_.Add(std::move(r), clock_.Now());
    Changed();
  }
  return decision;
}

void SchedulerState::AbandonClaim(const std::string& claim_id) {
  absl::MutexLock lock(&mu_);
  claims_.Remove(claim_id);
  Changed();
}

void SchedulerState::ExpectCreate(const std::string& pod_name, const Placement& placement) {
  absl::MutexLock lock(&mu_);
  // The watch may already have delivered the new pod.
  if (pods_.count(PodKey(reservation_ns_, pod_name)) > 0) return;
  expected_creates_[pod_name] = {placement, clock_.Now() + kExpectationTtl};
  Changed();
}

void SchedulerState::ExpectDelete(const std::string& pod_uid) {
  absl::MutexLock lock(&mu_);
  expected_deletes_[pod_uid] = clock_.Now() + kExpectationTtl;
  Changed();
}

std::vector<ClaimRecord> SchedulerState::Expire() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  std::vector<ClaimRecord> expired = claims_.Expire(now);
  size_t before = expected_creates_.size() + expected_deletes_.size();
  std::erase_if(expected_creates_, [&](const auto& e) { return e.second.deadline <= now; });
  std::erase_if(expected_deletes_, [&](const auto& e) { return e.second <= now; });
  if (!expired.empty() || before != expected_creates_.size() + expected_deletes_.size()) Changed();
  return expired;
}

PlannerInput SchedulerState::Snapshot() {
  PlannerInput in;
  std::vector<std::shared_ptr<const PodView>> views;
  std::set<std::string> handed_over;  // reservation uids being deleted or claimed
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, m] : machines_) in.groups.push_back(m.group);
    in.nodes = nodes_;
    views.reserve(pods_.size());
    for (const auto& [key, view] : pods_) views.push_back(view);
    for (const auto& [uid, deadline] : expected_deletes_) handed_over.insert(uid);
    for (const std::string& uid : claims_.ClaimedReservations()) handed_over.insert(uid);
    AddExpectedCreates(in);
    in.claims = claims_.Live();
    in.refused = claims_.RecentRefusals(clock_.Now());
  }
  for (const std::shared_ptr<const PodView>& view : views) {
    if (view->kind == PodView::kOther) {
      auto n = in.nodes.find(view->node);
      if (n != in.nodes.end()) n->second.used_by_others += view->requests;
      continue;
    }
    SlotPod p = view->slot;
    // A claimed reservation pod is being handed over: its room belongs to the claim.
    if (handed_over.count(p.uid) > 0) p.terminating = true;
    in.pods.push_back(std::move(p));
  }
  return in;
}

void SchedulerState::AddExpectedCreates(PlannerInput& in) {
  for (const auto& [name, e] : expected_creates_) {
    SlotPod p;
    p.name = name;
    p.ns = reservation_ns_;
    p.group = e.placement.group;
    p.type = e.placement.type;
    p.node = e.placement.node;
    p.created = e.deadline;
    in.pods.push_back(std::move(p));
  }
}

std::map<std::string, std::shared_ptr<const rapidjson::Document>> SchedulerState::NodeObjects() {
  absl::MutexLock lock(&mu_);
  return node_objects_;
}

std::map<std::string, std::shared_ptr<const rapidjson::Document>>
SchedulerState::MachineObjects() {
  absl::MutexLock lock(&mu_);
  return machine_objects_;
}

std::map<std::string, std::vector<std::string>> SchedulerState::ParseProblems() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, m] : machines_) out[name] = m.problems;
  return out;
}

uint64_t SchedulerState::version() {
  absl::MutexLock lock(&mu_);
  return version_;
}

uint64_t SchedulerState::WaitForChange(uint64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return version_ != seen; };
  clock_.AwaitWithTimeout(mu_, absl::Condition(&changed), timeout);
  return version_;
}

}  // namespace labkube::scheduler
