#include "services/scheduler/scheduler_state.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/log.h"
#include "services/scheduler/queue.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

constexpr absl::Duration kExpectationTtl = absl::Seconds(30);

std::string PodKey(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

// The pod a claim is for: its name, or generateName + "*".
std::string ClaimedName(const ClaimQuery& q) {
  return q.pod_name.empty() ? q.generate_name + "*" : q.pod_name;
}

std::string Who(const ClaimQuery& q) { return PodKey(q.ns, ClaimedName(q)); }

bool SameResources(const Resources& a, const Resources& b) {
  return a.cpu_milli == b.cpu_milli && a.memory_bytes == b.memory_bytes && a.extended == b.extended;
}

bool SameNode(const NodeInfo& a, const NodeInfo& b) {
  return a.ready == b.ready && a.unschedulable == b.unschedulable &&
         SameResources(a.allocatable, b.allocatable) && a.labels == b.labels;
}

// spec.taints of two Node objects (labkube repairs its own taints).
bool SameTaints(const rapidjson::Value& a, const rapidjson::Value& b) {
  const rapidjson::Value* ta = json::Find(a, {"spec", "taints"});
  const rapidjson::Value* tb = json::Find(b, {"spec", "taints"});
  if (ta == nullptr || tb == nullptr) return ta == tb;
  return *ta == *tb;
}

}  // namespace

SchedulerState::SchedulerState(Clock& clock, absl::Duration claim_ttl, std::string reservation_ns,
                               const ClaimSigner& signer)
    : clock_(clock),
      reservation_ns_(std::move(reservation_ns)),
      signer_(signer),
      guest_check_{&signer, claim_ttl + absl::Minutes(1)},
      claims_(claim_ttl),
      claim_ttl_(claim_ttl) {}

void SchedulerState::OnMachine(std::shared_ptr<const rapidjson::Document> machine) {
  ParsedMachine parsed = ParseMachine(*machine);
  absl::MutexLock lock(&mu_);
  // Its status written back (by this scheduler's own passes, mostly): the plan is the same.
  auto old = machines_.find(parsed.group.machine_name);
  bool status_only = old != machines_.end() &&
                     old->second.group.generation == parsed.group.generation &&
                     old->second.group.group == parsed.group.group &&
                     old->second.group.deleting == parsed.group.deleting;
  machine_objects_[parsed.group.machine_name] = std::move(machine);
  machines_[parsed.group.machine_name] = std::move(parsed);
  Changed(status_only ? Change::kStatus : Change::kPlan);
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
  // A heartbeat (the kubelet's or kwok's status update) changes nothing labkube plans with.
  auto old_info = nodes_.find(info.name);
  auto old_object = node_objects_.find(info.name);
  bool same = old_info != nodes_.end() && old_object != node_objects_.end() &&
              SameNode(old_info->second, info) && SameTaints(*old_object->second, *node);
  node_objects_[info.name] = std::move(node);
  nodes_[info.name] = std::move(info);
  Changed(same ? Change::kStatus : Change::kPlan);
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
                : view.kind == PodView::kWaiting   ? &waiting_by_type_
                                                   : nullptr;
  if (index == nullptr) return;
  std::string type = view.kind == PodView::kWaiting
                         ? TypeKey(view.waiting.group, view.waiting.type)
                         : TypeKey(view.slot.group, view.slot.type);
  if (add) {
    (*index)[type].insert(key);
    return;
  }
  auto it = index->find(type);
  if (it == index->end()) return;
  it->second.erase(key);
  if (it->second.empty()) index->erase(it);
}

bool SchedulerState::ClaimTaken(const std::string& key, const std::string& claim_id) {
  auto holder = claim_holders_.find(claim_id);
  if ((holder != claim_holders_.end() && holder->second != key) || ended_claims_.count(claim_id)) {
    return true;
  }
  claim_holders_[claim_id] = key;
  return false;
}

SchedulerState::Change SchedulerState::PodChange(const PodView* old_view,
                                                 const PodView& view) const {
  const SlotPod& s = view.slot;
  bool same_slot = old_view != nullptr && old_view->kind == view.kind &&
                   old_view->slot.node == s.node && old_view->slot.type == s.type &&
                   old_view->slot.finished == s.finished;
  switch (view.kind) {
    case PodView::kReservation:  // one this replica created, or one it already knew
      if (old_view == nullptr) {
        return expected_creates_.count(s.name) > 0 ? Change::kStatus : Change::kPlan;
      }
      if (!same_slot) return Change::kPlan;
      if (s.terminating && !old_view->slot.terminating) {  // being deleted: by us?
        bool ours = expected_deletes_.count(s.uid) > 0 || claims_.IsReservationClaimed(s.uid);
        return ours ? Change::kStatus : Change::kPlan;
      }
      return Change::kStatus;
    case PodView::kGuest:  // the guest of a live claim, or one already counted
      if (old_view == nullptr)
        return claims_.Find(s.claim_id) != nullptr ? Change::kStatus : Change::kPlan;
      return same_slot ? Change::kStatus : Change::kPlan;
    case PodView::kWaiting:  // a new pod in line can take a free slot: plan at once
      return old_view != nullptr && old_view->kind == PodView::kWaiting ? Change::kStatus
                                                                        : Change::kPlan;
    case PodView::kOther:
      return old_view != nullptr && old_view->kind == PodView::kOther &&
                     old_view->node == view.node && SameResources(old_view->requests, view.requests)
                 ? Change::kStatus
                 : Change::kPlan;
    case PodView::kIgnored:
      break;
  }
  return Change::kPlan;
}

void SchedulerState::OnPod(const rapidjson::Value& pod) {
  PodView view = ClassifyPod(pod, reservation_ns_, guest_check_);
  std::string key = PodKey(std::string(json::GetString(pod, {"metadata", "namespace"})),
                           std::string(json::GetString(pod, {"metadata", "name"})));
  absl::MutexLock lock(&mu_);
  if (view.kind == PodView::kGuest && ClaimTaken(key, view.slot.claim_id)) {
    view = OrdinaryPod(pod, absl::StrCat("claim ", view.slot.claim_id, " belongs to another pod"));
  }
  bool first_sight = pods_.count(key) == 0;
  if (!view.forged.empty() && first_sight) {
    LogEvent(LogLevel::kWarn, "guest.refused", {{"pod", key}, {"why", view.forged}});
  }
  if (view.kind == PodView::kGuest && first_sight) {  // the guest of an inferred claim
    auto match = std::find_if(inferred_claims_.begin(), inferred_claims_.end(), [&](const auto& c) {
      return c.second.group == view.slot.group && c.second.type == view.slot.type &&
             c.second.node == view.slot.node;
    });
    if (match != inferred_claims_.end()) inferred_claims_.erase(match);
  }
  auto old = pods_.find(key);
  Change change = PodChange(old == pods_.end() ? nullptr : old->second.get(), view);
  if (old != pods_.end()) Index(key, *old->second, false);
  if (view.kind == PodView::kIgnored) {
    if (pods_.erase(key) > 0) Changed();
    return;
  }
  Index(key, view, true);
  if (view.kind != PodView::kWaiting) handed_.erase(key);
  if (view.kind == PodView::kReservation) expected_creates_.erase(view.slot.name);
  if (view.kind == PodView::kGuest && claims_.Bind(view.slot.claim_id)) {
    claims_.ClearRefusal(view.slot.group, view.slot.type, key);
  }
  pods_[key] = std::make_shared<const PodView>(std::move(view));
  Changed(change);
}

void SchedulerState::OnPodDeleted(const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = pods_.find(PodKey(ns, name));
  if (it == pods_.end()) return;
  const SlotPod& gone = it->second->slot;
  bool ours = expected_deletes_.erase(gone.uid) > 0 || claims_.IsReservationClaimed(gone.uid);
  if (it->second->kind == PodView::kReservation && !ours && gone.running) {
    inferred_claims_[gone.uid] = {gone.group, gone.type, gone.node, clock_.Now() + claim_ttl_};
  }
  if (it->second->kind == PodView::kGuest) {
    claim_holders_.erase(it->second->slot.claim_id);
    ended_claims_[it->second->slot.claim_id] = clock_.Now();
  }
  Index(it->first, *it->second, false);
  handed_.erase(it->first);
  bool handed_over = it->second->kind == PodView::kReservation && ours;
  pods_.erase(it);
  Changed(handed_over ? Change::kStatus : Change::kPlan);
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
    return absl::FailedPreconditionError(
        absl::StrCat("every node of machine type ", t.name, " in group ", g.group,
                     " is in maintenance or not ready (", absl::StrJoin(states, ", "),
                     "); ask an admin, or pick another type (labctl machines)"));
  }
  std::vector<std::string> holders;
  int32_t used = 0;
  if (auto guests = guests_by_type_.find(TypeKey(g.group, t.name));
      guests != guests_by_type_.end()) {
    for (const std::string& key : guests->second) {
      if (pods_.at(key)->slot.finished) continue;
      ++used;
      if (holders.size() < 3) holders.push_back(key);
    }
  }
  for (const LiveClaim& c : claims_.Live()) used += c.group == g.group && c.type == t.name;
  std::string held =
      holders.empty() ? "" : absl::StrCat("; in use by ", absl::StrJoin(holders, ", "));
  return absl::ResourceExhaustedError(
      absl::StrFormat("no free %s slot in group %s: maximum %d, used %d%s. Try again when one "
                      "is freed, or pick another type (labctl machines)",
                      t.name, g.group, t.available, used, held));
}

int32_t SchedulerState::HeldBy(const MachineGroup& g, const std::string& type,
                               const std::string& ns) {
  int32_t held = 0;
  for (const MachineType& t : g.types) {
    if (!type.empty() && t.name != type) continue;
    auto guests = guests_by_type_.find(TypeKey(g.group, t.name));
    if (guests == guests_by_type_.end()) continue;
    for (const std::string& key : guests->second) {
      const SlotPod& p = pods_.at(key)->slot;
      held += p.ns == ns && !p.finished;
    }
  }
  for (const LiveClaim& c : claims_.Live()) {
    const ClaimRecord* r = claims_.Find(c.id);
    held += r != nullptr && r->ns == ns && c.group == g.group && (type.empty() || c.type == type);
  }
  return held;
}

absl::Status SchedulerState::CheckMemberCaps(const MachineGroup& g, const MachineType& t,
                                             const std::string& ns) {
  if (t.max_per_member > 0) {
    if (int32_t held = HeldBy(g, t.name, ns); held >= t.max_per_member) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("%s holds %d %s slot%s in group %s, the most one member may hold at once "
                          "(maxPerMember %d); end one of them first (labctl ide list)",
                          ns, held, t.name, held == 1 ? "" : "s", g.group, t.max_per_member));
    }
  }
  if (g.max_per_member > 0) {
    if (int32_t held = HeldBy(g, "", ns); held >= g.max_per_member) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%s holds %d slot%s of group %s, the most one member may hold at once (maxPerMember "
          "%d of the group); end one of them first (labctl ide list)",
          ns, held, held == 1 ? "" : "s", g.group, g.max_per_member));
    }
  }
  return absl::OkStatus();
}

std::string SchedulerState::NewClaimId() {
  static absl::BitGen* gen = new absl::BitGen();
  return absl::StrFormat("c-%x-%08x", ++claim_counter_, absl::Uniform<uint32_t>(*gen));
}

ClaimDecision SchedulerState::DecisionFor(const ClaimRecord& r, const MachineGroup& g,
                                          const MachineType& t, bool replayed) {
  std::string hostname;
  if (auto n = nodes_.find(r.node); n != nodes_.end()) {
    if (auto h = n->second.labels.find("kubernetes.io/hostname"); h != n->second.labels.end()) {
      hostname = h->second;
    }
  }
  return ClaimDecision{r, GuestSpecFor(g, t, r.node, hostname.empty() ? r.node : hostname),
                       replayed};
}

// The webhook is re-invoked for a pod it patched before, or a member copied a claim's
// annotations: only a live claim made for this very pod is answered again.
absl::StatusOr<ClaimDecision> SchedulerState::Replay(const ClaimQuery& q, const MachineGroup& g,
                                                     const MachineType& t) {
  const ClaimRecord* live = claims_.Find(q.carried_claim);
  if (live == nullptr || live->ns != q.ns || live->pod_name != ClaimedName(q) ||
      live->group != g.group || live->type != t.name || live->signature.empty() ||
      live->signature != q.carried_signature) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this pod carries claim ", q.carried_claim,
        ", which labkube did not give to this pod or which has ended (copied from another "
        "pod?); remove the labkube.io/claim, labkube.io/node and labkube.io/claim-signature "
        "annotations and create the pod again"));
  }
  return DecisionFor(*live, g, t, /*replayed=*/true);
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
  if (!q.carried_claim.empty()) return Replay(q, *g, *t);
  if (!q.admission_uid.empty() && !q.dry_run) {
    if (const ClaimRecord* done = claims_.FindByAdmissionUid(q.admission_uid)) {
      if (done->ns != q.ns || done->pod_name != ClaimedName(q)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "admission uid ", q.admission_uid, " was already used for another pod (", done->ns, "/",
            done->pod_name, "); every admission request has a uid of its own"));
      }
      return DecisionFor(*done, *g, *t, /*replayed=*/true);
    }
  }
  if (absl::Status capped = CheckMemberCaps(*g, *t, q.ns); !capped.ok()) return capped;
  // Others already wait for the type: the newcomer gets in line too (the next pass hands the
  // free slots in the queue's order), so nobody jumps the queue by arriving as a slot frees.
  const SlotPod* slot = t->queueing && Waiting(*g, *t) > 0 ? nullptr : PickReservation(*g, *t);
  if (slot == nullptr && t->queueing && NoSlotError(*g, *t).code() == absl::StatusCode::kResourceExhausted) {
    Changed(Change::kStatus);
    return Queue(q, *g, *t);
  }
  if (slot == nullptr) {
    if (!q.dry_run) claims_.RecordRefusal(g->group, t->name, Who(q), clock_.Now());
    Changed(Change::kStatus);
    return NoSlotError(*g, *t);
  }
  ClaimRecord r{q.dry_run ? contract::kDryRunClaim : NewClaimId(),
                q.admission_uid,
                g->group,
                t->name,
                slot->node,
                q.ns,
                ClaimedName(q),
                slot->name,
                slot->uid,
                absl::InfiniteFuture()};
  if (q.dry_run) return DecisionFor(r, *g, *t, false);  // never signed: it holds nothing
  absl::Time now = clock_.Now();
  r.signature = signer_.Sign({r.id, r.ns, r.pod_name, r.group, r.type, r.node, now});
  const ClaimRecord& added = claims_.Add(std::move(r), now);
  Changed(Change::kStatus);
  return DecisionFor(added, *g, *t, false);
}

void SchedulerState::AbandonClaim(const std::string& claim_id) {
  absl::MutexLock lock(&mu_);
  claims_.Remove(claim_id);
  Changed();
}

bool SchedulerState::ReleaseClaim(const std::string& claim_id, const std::string& signature) {
  absl::MutexLock lock(&mu_);
  const ClaimRecord* c = claims_.Find(claim_id);
  if (c == nullptr || c->signature.empty() || signature.size() != c->signature.size() ||
      CRYPTO_memcmp(signature.data(), c->signature.data(), signature.size()) != 0) {
    return false;
  }
  claims_.Remove(claim_id);
  Changed();
  return true;
}

void SchedulerState::ExpectCreate(const std::string& pod_name, const Placement& placement) {
  absl::MutexLock lock(&mu_);
  // The watch may already have delivered the new pod.
  if (pods_.count(PodKey(reservation_ns_, pod_name)) > 0) return;
  expected_creates_[pod_name] = {placement, clock_.Now() + kExpectationTtl};
  Changed(Change::kStatus);
}

void SchedulerState::ExpectDelete(const std::string& pod_uid) {
  absl::MutexLock lock(&mu_);
  expected_deletes_[pod_uid] = clock_.Now() + kExpectationTtl;
  Changed(Change::kStatus);
}

void SchedulerState::ForgetDelete(const std::string& pod_uid) {
  absl::MutexLock lock(&mu_);
  if (expected_deletes_.erase(pod_uid) > 0) Changed();
}

std::vector<ClaimRecord> SchedulerState::Expire() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  std::vector<ClaimRecord> expired = claims_.Expire(now);
  std::erase_if(ended_claims_,
                [&](const auto& e) { return e.second + guest_check_.window <= now; });
  size_t inferred = inferred_claims_.size();
  std::erase_if(inferred_claims_, [&](const auto& e) { return e.second.expires <= now; });
  if (inferred != inferred_claims_.size()) Changed();
  size_t before = expected_creates_.size() + expected_deletes_.size();
  std::erase_if(expected_creates_, [&](const auto& e) { return e.second.deadline <= now; });
  std::erase_if(expected_deletes_, [&](const auto& e) { return e.second <= now; });
  if (!expired.empty() || before != expected_creates_.size() + expected_deletes_.size()) Changed();
  return expired;
}

PlannerInput SchedulerState::Snapshot() {
  PlannerInput in;
  std::vector<std::shared_ptr<const PodView>> views;
  std::vector<std::string> handed_over;  // reservation uids being deleted or claimed
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, m] : machines_) in.groups.push_back(m.group);
    in.nodes = nodes_;
    views.reserve(pods_.size());
    for (const auto& [key, view] : pods_) {
      if (view->kind != PodView::kWaiting) {
        views.push_back(view);
      } else if (!Handed(key)) {
        in.waiting.push_back(view->waiting);
      }
    }
    handed_over.reserve(expected_deletes_.size());
    for (const auto& [uid, deadline] : expected_deletes_) handed_over.push_back(uid);
    for (const std::string& uid : claims_.ClaimedReservations()) handed_over.push_back(uid);
    AddExpectedCreates(in);
    in.claims = claims_.Live();
    for (const auto& [uid, c] : inferred_claims_) {
      in.claims.push_back({absl::StrCat("inferred-", uid), c.group, c.type, c.node});
    }
    in.refused = claims_.RecentRefusals(clock_.Now());
    in.now = clock_.Now();
  }
  std::sort(handed_over.begin(), handed_over.end());
  in.pods.reserve(in.pods.size() + views.size());
  for (const std::shared_ptr<const PodView>& view : views) {
    if (view->kind == PodView::kOther) {
      auto n = in.nodes.find(view->node);
      if (n != in.nodes.end()) n->second.used_by_others += view->requests;
      continue;
    }
    SlotPod& p = in.pods.emplace_back(view->slot);
    // A claimed reservation pod is being handed over: its room belongs to the claim.
    if (std::binary_search(handed_over.begin(), handed_over.end(), p.uid)) p.terminating = true;
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

std::map<std::string, std::shared_ptr<const rapidjson::Document>> SchedulerState::MachineObjects() {
  absl::MutexLock lock(&mu_);
  return machine_objects_;
}

std::map<std::string, std::vector<std::string>> SchedulerState::ParseProblems() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, m] : machines_) out[name] = m.problems;
  return out;
}

SchedulerState::Versions SchedulerState::version() {
  absl::MutexLock lock(&mu_);
  return {plan_version_, version_};
}

SchedulerState::Versions SchedulerState::WaitForChange(Versions seen, absl::Duration timeout,
                                                       absl::Duration status_delay) {
  absl::MutexLock lock(&mu_);
  absl::Time deadline = clock_.Now() + timeout;
  auto plan = [this, seen]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return plan_version_ != seen.plan; };
  auto any = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ != seen.any || plan_version_ != seen.plan;
  };
  if (clock_.AwaitWithTimeout(mu_, absl::Condition(&any), timeout) && !plan()) {
    absl::Duration wait = std::min(status_delay, deadline - clock_.Now());
    clock_.AwaitWithTimeout(mu_, absl::Condition(&plan), std::max(wait, absl::ZeroDuration()));
  }
  return {plan_version_, version_};
}

}  // namespace labkube::scheduler
