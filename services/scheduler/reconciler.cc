#include "services/scheduler/reconciler.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"
#include "lib/log.h"
#include "lib/status_macros.h"
#include "services/scheduler/handover.h"
#include "services/scheduler/machine_status.h"
#include "services/scheduler/node_labels.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

// Concurrent API writes when creating reservation pods.
constexpr size_t kWriters = 8;
// How long a waiting pod whose handover failed is passed over.
constexpr absl::Duration kHandoverBackoff = absl::Seconds(5);

bool HasFinalizer(const rapidjson::Value& machine) {
  const rapidjson::Value* f = json::Find(machine, {"metadata", "finalizers"});
  if (f == nullptr || !f->IsArray()) return false;
  for (const auto& v : f->GetArray()) {
    if (v.IsString() && json::View(v) == kFinalizer) return true;
  }
  return false;
}

// Merge patch setting metadata.finalizers to the current ones without ours.
std::string FinalizerPatch(const rapidjson::Value& machine) {
  rapidjson::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  rapidjson::Value list(rapidjson::kArrayType);
  if (const auto* f = json::Find(machine, {"metadata", "finalizers"}); f && f->IsArray()) {
    for (const auto& v : f->GetArray()) {
      if (v.IsString() && json::View(v) != kFinalizer)
        list.PushBack(json::String(json::View(v), a), a);
    }
  }
  json::SetValue(patch, {"metadata", "finalizers"}, list);
  json::SetString(patch, {"metadata", "resourceVersion"},
                  json::GetString(machine, {"metadata", "resourceVersion"}));
  return json::ToString(patch);
}

}  // namespace

Reconciler::Reconciler(kube::Client& client, SchedulerState& state, Clock& clock,
                       ReconcilerOptions options)
    : client_(client),
      state_(state),
      clock_(clock),
      options_(std::move(options)),
      notices_(client, clock, options_.identity) {}

void Reconciler::Count(const absl::Status& s, PassResult& r, const char* what,
                       const std::string& name) {
  ++r.writes;
  if (s.ok() || absl::IsNotFound(s)) return;
  ++r.errors;
  LogEvent(LogLevel::kWarn, "reconcile.write_failed",
           {{"what", what}, {"name", name}, {"error", std::string(s.message())}});
}

PassResult Reconciler::RunOnce(bool leader) {
  PassResult r;
  if (leader) ExpireClaims();
  r.input = state_.Snapshot();
  r.plan = ComputePlan(r.input);
  if (!leader) return r;
  HandOver(r);
  notices_.AnnounceQueues(r.plan);
  r.writes += notices_.EnforceTimeLimits(r.input);
  RemoveReservations(r);
  CreateReservations(r);
  SyncNodes(r);
  SyncMachines(r);
  return r;
}

void Reconciler::ExpireClaims() {
  for (const ClaimRecord& c : state_.Expire()) {
    LogEvent(LogLevel::kInfo, "claim.expired",
             {{"claim", c.id},
              {"group", c.group},
              {"type", c.type},
              {"node", c.node},
              {"namespace", c.ns},
              {"pod", c.pod_name}});
  }
}

absl::Status Reconciler::HandOverOne(const Handover& h) {
  LK_ASSIGN_OR_RETURN(ClaimDecision d, state_.HandOver(h));
  auto patch = HandoverPatch(h.pod, d);
  if (!patch.ok()) {
    state_.AbandonClaim(d.record.id);
    return patch.status();
  }
  if (!h.reservation.name.empty()) {
    kube::DeleteOptions opts;
    opts.grace_period_seconds = 0;
    opts.precondition_uid = h.reservation.uid;
    absl::Status s = client_.Delete(res::Pods(), options_.reservation.ns, h.reservation.name, opts);
    if (!s.ok() && !absl::IsNotFound(s)) {
      state_.AbandonClaim(d.record.id);
      return s;
    }
  }
  auto patched = client_.Patch(res::Pods(), h.pod.ns, h.pod.name, kube::PatchType::kJsonPatch,
                               json::ToString(*patch));
  if (!patched.ok()) {  // gone, or changed under us: the slot is re-locked by the next pass
    state_.AbandonClaim(d.record.id);
    return patched.status();
  }
  notices_.HandedOver(h);
  LogEvent(LogLevel::kInfo, "queue.handed_over",
           {{"pod", absl::StrCat(h.pod.ns, "/", h.pod.name)},
            {"group", h.group},
            {"type", h.type},
            {"node", h.node},
            {"claim", d.record.id},
            {"reservation", h.reservation.name},
            {"waited_s", absl::StrCat(absl::ToInt64Seconds(clock_.Now() - h.pod.created))}});
  return absl::OkStatus();
}

void Reconciler::HandOver(PassResult& r) {
  absl::Time now = clock_.Now();
  std::erase_if(handover_retry_, [now](const auto& e) { return e.second <= now; });
  std::vector<const Handover*> work;
  for (const Handover& h : r.plan.handover) {
    if (handover_retry_.count(absl::StrCat(h.pod.ns, "/", h.pod.name)) == 0) work.push_back(&h);
  }
  // Handovers go out concurrently (many slots free at once when guests end together); each is
  // decided under the state's lock, so none is given twice.
  std::vector<absl::Status> results(work.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) results[i] = HandOverOne(*work[i]);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min<size_t>(kWriters, work.size()); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < work.size(); ++i) {
    if (absl::IsFailedPrecondition(results[i])) continue;  // it left the queue meanwhile
    std::string key = absl::StrCat(work[i]->pod.ns, "/", work[i]->pod.name);
    if (!results[i].ok()) handover_retry_[key] = now + kHandoverBackoff;
    Count(results[i], r, "queue.handover", key);
  }
}

void Reconciler::CreateReservations(PassResult& r) {
  struct Work {
    const Placement* placement;
    const MachineGroup* group;
    const MachineType* type;
  };
  std::vector<Work> work;
  for (const Placement& p : r.plan.create) {
    const MachineGroup* group = nullptr;
    for (const MachineGroup& g : r.input.groups) {
      if (g.group == p.group && !g.deleting) group = &g;
    }
    const MachineType* type = group == nullptr ? nullptr : group->FindType(p.type);
    if (type != nullptr) work.push_back({&p, group, type});
  }
  // Creates go out concurrently (a new Machine may declare thousands of slots); each result is
  // recorded as an expectation as soon as it is known.
  std::vector<absl::Status> results(work.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      const Placement& p = *work[i].placement;
      // Built here, one per writer at a time: a Machine of 10,000 slots never holds 10,000
      // pod documents at once.
      absl::StatusOr<rapidjson::Document> pod =
          ReservationPod(*work[i].group, *work[i].type, p.node, options_.reservation);
      if (!pod.ok()) {  // a build mistake: counted and logged below as a failed create
        results[i] = pod.status();
        continue;
      }
      auto created = client_.Create(res::Pods(), options_.reservation.ns, *pod);
      results[i] = created.status();
      if (!created.ok()) continue;
      std::string name(json::GetString(*created, {"metadata", "name"}));
      state_.ExpectCreate(name, p);
      LogEvent(LogLevel::kInfo, "reservation.created",
               {{"pod", name}, {"group", p.group}, {"type", p.type}, {"node", p.node}});
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min<size_t>(kWriters, work.size()); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < work.size(); ++i)
    Count(results[i], r, "reservation.create", work[i].placement->node);
}

void Reconciler::RemoveReservations(PassResult& r) {
  for (const PodRef& p : r.plan.remove) {
    kube::DeleteOptions opts;
    opts.grace_period_seconds = 0;
    opts.precondition_uid = p.uid;
    state_.ExpectDelete(p.uid);  // before the delete: its watch event must find it ours
    absl::Status s = client_.Delete(res::Pods(), options_.reservation.ns, p.name, opts);
    Count(s, r, "reservation.delete", p.name);
    if (s.ok() || absl::IsNotFound(s)) {
      LogEvent(LogLevel::kInfo, "reservation.deleted", {{"pod", p.name}, {"reason", p.reason}});
    } else {
      state_.ForgetDelete(p.uid);
    }
  }
}

void Reconciler::SyncNodes(PassResult& r) {
  std::vector<MachineGroup> live;
  for (const MachineGroup& g : r.input.groups) {
    if (!g.deleting) live.push_back(g);
  }
  std::map<std::string, NodeMarks> want = DesiredMarks(live, r.plan);
  for (const auto& [name, node] : state_.NodeObjects()) {
    auto it = want.find(name);
    std::optional<std::string> patch =
        NodeMarksPatch(*node, it == want.end() ? NodeMarks{} : it->second);
    if (!patch) continue;
    auto s = client_.Patch(res::Nodes(), "", name, kube::PatchType::kMergePatch, *patch);
    Count(s.status(), r, "node.patch", name);
    if (s.ok()) LogEvent(LogLevel::kInfo, "node.marked", {{"node", name}});
  }
}

void Reconciler::DropFinalizer(const rapidjson::Value& machine, PassResult& r) {
  if (!HasFinalizer(machine)) return;
  std::string name(json::GetString(machine, {"metadata", "name"}));
  auto s = client_.Patch(res::Machines(), "", name, kube::PatchType::kMergePatch,
                         FinalizerPatch(machine));
  Count(s.status(), r, "machine.finalizer", name);
  if (s.ok()) LogEvent(LogLevel::kInfo, "machine.finalizer_removed", {{"machine", name}});
}

void Reconciler::SyncMachines(PassResult& r) {
  auto problems = state_.ParseProblems();
  for (const auto& [name, machine] : state_.MachineObjects()) {
    const GroupStatus* gs = nullptr;
    for (const GroupStatus& g : r.plan.groups) {
      if (g.machine_name == name) gs = &g;
    }
    DropFinalizer(*machine, r);
    if (json::Find(*machine, {"metadata", "deletionTimestamp"}) != nullptr) continue;
    std::vector<std::string> all = problems[name];
    if (gs != nullptr) all.insert(all.end(), gs->problems.begin(), gs->problems.end());
    std::string patch = MachineStatusPatch(*machine, gs, all, clock_.Now());
    if (last_status_[name] == patch) continue;
    kube::PatchOptions opts;
    opts.subresource = "status";
    auto s = client_.Patch(res::Machines(), "", name, kube::PatchType::kMergePatch, patch, opts);
    Count(s.status(), r, "machine.status", name);
    if (s.ok()) last_status_[name] = patch;
  }
}

}  // namespace labkube::scheduler
