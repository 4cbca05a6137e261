#include "services/scheduler/cluster_view.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/quantity.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using rapidjson::Value;

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

// "8000m" from a string or a number.
std::string QuantityText(const Value& v) {
  if (v.IsString()) return std::string(json::View(v));
  if (v.IsInt64()) return absl::StrCat(v.GetInt64());
  if (v.IsNumber()) return absl::StrCat(v.GetDouble());
  return "";
}

// Adds resource `name` with quantity `q` to `r`; false if it does not parse.
bool AddResource(std::string_view name, const Value& q, Resources& r) {
  if (name == "cpu") {
    auto v = kube::QuantityMilli(q);
    if (!v.ok()) return false;
    r.cpu_milli = SaturatingAdd(r.cpu_milli, *v);
  } else {
    auto v = kube::QuantityValue(q);
    if (!v.ok()) return false;
    if (name == "memory") {
      r.memory_bytes = SaturatingAdd(r.memory_bytes, *v);
    } else {
      r.extended[std::string(name)] = SaturatingAdd(r.extended[std::string(name)], *v);
    }
  }
  return true;
}

Resources ResourceList(const Value* list) {
  Resources r;
  if (list == nullptr || !list->IsObject()) return r;
  for (auto it = list->MemberBegin(); it != list->MemberEnd(); ++it) {
    AddResource(json::View(it->name), it->value, r);
  }
  return r;
}

bool ParseType(const Value& t, size_t index, MachineType& out, std::vector<std::string>& problems) {
  out.name = Str(t, {"name"});
  std::string where = absl::StrCat("spec.machineTypes[", index, "] (", out.name, ")");
  const Value* cpu = json::Find(t, {"spec", "cpu"});
  const Value* memory = json::Find(t, {"spec", "memory"});
  if (out.name.empty() || cpu == nullptr || memory == nullptr) {
    problems.push_back(absl::StrCat(where, ": name, spec.cpu and spec.memory are required"));
    return false;
  }
  out.cpu = QuantityText(*cpu);
  out.memory = QuantityText(*memory);
  out.available = static_cast<int32_t>(std::max<int64_t>(0, json::GetInt(t, {"available"})));
  out.max_per_member =
      static_cast<int32_t>(std::clamp<int64_t>(json::GetInt(t, {"maxPerMember"}), 0, INT32_MAX));
  out.queueing = Str(t, {"queueing"}) != "Disabled";
  if (std::string limit = Str(t, {"maxRuntime"}); !limit.empty()) {
    if (!absl::ParseDuration(limit, &out.max_runtime) || out.max_runtime <= absl::ZeroDuration()) {
      problems.push_back(absl::StrCat(where, ": maxRuntime \"", limit,
                                      "\" is not a positive duration such as 8h or 90m; no "
                                      "time limit is applied"));
      out.max_runtime = absl::ZeroDuration();
    }
  }
  bool ok =
      AddResource("cpu", *cpu, out.resources) && AddResource("memory", *memory, out.resources);
  if (const Value* gpu = json::Find(t, {"spec", "gpu"}); gpu != nullptr && gpu->IsObject()) {
    std::string resource = Str(*gpu, {"type"});
    if (!resource.empty()) out.gpu.resource = resource;
    out.gpu.family = Str(*gpu, {"family"});
    out.gpu.product = Str(*gpu, {"product"});
    out.gpu.machine = Str(*gpu, {"machine"});
    if (const Value* num = json::FindMember(*gpu, "num"); num != nullptr) {
      auto n = kube::QuantityValue(*num);
      ok = ok && n.ok();
      out.gpu.count = n.ok() ? *n : 0;
      if (out.gpu.count > 0) out.resources.extended[out.gpu.resource] = out.gpu.count;
    }
  }
  if (!ok) problems.push_back(absl::StrCat(where, ": cpu, memory or gpu.num is not a quantity"));
  return ok;
}

void ParsePool(const Value& machine, ParsedMachine& out) {
  const Value* pool = json::Find(machine, {"spec", "nodePool"});
  if (pool == nullptr || !pool->IsArray()) return;
  for (const Value& entry : pool->GetArray()) {
    PoolNode n;
    n.node = Str(entry, {"name"});
    if (n.node.empty()) {
      out.problems.push_back("spec.nodePool: an entry has no name");
      continue;
    }
    n.mode = Str(entry, {"mode"}) == "maintenance" ? PoolMode::kMaintenance : PoolMode::kReady;
    n.taint = json::GetBool(entry, {"taint"});
    if (const Value* types = json::FindMember(entry, "machineType"); types && types->IsArray()) {
      for (const Value& t : types->GetArray()) n.machine_types.push_back(Str(t, {"name"}));
    }
    out.group.pool.push_back(std::move(n));
  }
}

void ParsePriorities(const Value& machine, ParsedMachine& out) {
  const Value* list = json::Find(machine, {"spec", "queuePriority"});
  if (list == nullptr || !list->IsArray()) return;
  for (const Value& entry : list->GetArray()) {
    std::string ns = Str(entry, {"namespace"});
    if (ns.empty()) {
      out.problems.push_back("spec.queuePriority: an entry has no namespace");
      continue;
    }
    out.group.queue_priority[ns] = static_cast<int32_t>(
        std::clamp<int64_t>(json::GetInt(entry, {"priority"}), INT32_MIN, INT32_MAX));
  }
}

bool NotReadyTaint(std::string_view key) {
  return key == "node.kubernetes.io/not-ready" || key == "node.kubernetes.io/unreachable" ||
         key == "node.kubernetes.io/unschedulable" ||
         key == "node.kubernetes.io/network-unavailable";
}

bool Finished(const Value& pod) {
  std::string_view phase = json::GetString(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

// The node a pod is bound to, else the one its reservation is pinned to.
std::string NodeOf(const Value& pod) {
  std::string node = Str(pod, {"spec", "nodeName"});
  return node.empty() ? Str(pod, {"metadata", "annotations", kNodeAnnotation}) : node;
}

absl::Time Created(const Value& pod) {
  absl::Time created = absl::InfinitePast();
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, Str(pod, {"metadata", "creationTimestamp"}), &created,
                       &err)) {
    return absl::InfinitePast();
  }
  return created;
}

// Why the guest-looking pod is not a guest labkube admitted, or "" when it is one.
std::string WhyNotGuest(const Value& pod, const SlotPod& s, const GuestCheck& check) {
  std::string signature =
      Str(pod, {"metadata", "annotations", contract::kClaimSignatureAnnotation});
  if (signature.empty()) return "no claim signature";
  std::string signed_node = Str(pod, {"metadata", "annotations", contract::kNodeAnnotation});
  std::string bound = Str(pod, {"spec", "nodeName"});
  if (!bound.empty() && bound != signed_node) return "runs on another node than its claim's";
  std::string name = Str(pod, {"metadata", "name"});
  std::string generate_name = Str(pod, {"metadata", "generateName"});
  bool generated = !generate_name.empty() && absl::StartsWith(name, generate_name);
  std::string who = generated ? absl::StrCat(generate_name, "*") : name;
  ClaimToken token{s.claim_id, s.ns, who, s.group, s.type, signed_node, absl::InfinitePast()};
  absl::Time issued;
  bool ok = check.signer != nullptr && check.signer->Verify(token, signature, &issued);
  if (!ok && who != name) {  // a claim made for the exact name of a generateName pod
    token.who = name;
    ok = check.signer->Verify(token, signature, &issued);
  }
  if (!ok && !s.uid.empty()) {  // a slot handed to a waiting pod: signed for its uid
    token.who = HandoverWho(s.uid);
    if (check.signer->Verify(token, signature, &issued)) return "";
  }
  if (!ok) return "claim signature does not match this pod";
  absl::Time created = Created(pod);
  if (created < issued - absl::Minutes(1) || created > issued + check.window) {
    return "created outside its claim's lifetime (claim copied from an earlier pod?)";
  }
  return "";
}

// The index of the queue gate in spec.schedulingGates, or -1.
int QueueGateIndex(const Value& pod) {
  const Value* gates = json::Find(pod, {"spec", "schedulingGates"});
  if (gates == nullptr || !gates->IsArray()) return -1;
  for (rapidjson::SizeType i = 0; i < gates->Size(); ++i) {
    if (json::GetString((*gates)[i], {"name"}) == contract::kQueueGate) return static_cast<int>(i);
  }
  return -1;
}

// Why a gated guest does not wait in labkube's queue ("" when it does).
std::string WhyNotWaiting(const Value& pod, const SlotPod& s, const GuestCheck& check) {
  std::string ticket = Str(pod, {"metadata", "annotations", contract::kQueueTicketAnnotation});
  if (ticket.empty()) return "no queue ticket";
  std::string name = Str(pod, {"metadata", "name"});
  std::string generate_name = Str(pod, {"metadata", "generateName"});
  bool generated = !generate_name.empty() && absl::StartsWith(name, generate_name);
  absl::Time issued;
  bool ok = check.signer != nullptr &&
            check.signer->Verify(QueueTicket(s.ns, generated ? generate_name + "*" : name,
                                             s.group, s.type, absl::InfinitePast()),
                                 ticket, &issued);
  if (!ok && generated) {
    ok = check.signer->Verify(QueueTicket(s.ns, name, s.group, s.type, absl::InfinitePast()),
                              ticket, &issued);
  }
  if (!ok) return "queue ticket does not match this pod";
  absl::Time created = Created(pod);
  if (created < issued - absl::Minutes(1) || created > issued + check.window) {
    return "created outside its queue ticket's lifetime (ticket copied from an earlier pod?)";
  }
  return "";
}

PodView WaitingView(const Value& pod, SlotPod s, int gate) {
  PodView v;
  v.kind = PodView::kWaiting;
  WaitingPod& w = v.waiting;
  w.ns = std::move(s.ns);
  w.name = std::move(s.name);
  w.uid = std::move(s.uid);
  w.group = std::move(s.group);
  w.type = std::move(s.type);
  w.created = Created(pod);
  w.gate_index = gate;
  const Value* terms = json::Find(pod, {"spec", "affinity", "nodeAffinity",
                                        "requiredDuringSchedulingIgnoredDuringExecution",
                                        "nodeSelectorTerms"});
  w.affinity_terms = terms != nullptr && terms->IsArray() ? static_cast<int>(terms->Size()) : 0;
  return v;
}

}  // namespace

std::string HandoverWho(const std::string& uid) { return absl::StrCat("uid:", uid); }

ClaimToken QueueTicket(const std::string& ns, const std::string& who, const std::string& group,
                       const std::string& type, absl::Time issued) {
  return ClaimToken{"queue", ns, who, group, type, "", issued};
}

ParsedMachine ParseMachine(const Value& machine) {
  ParsedMachine out;
  MachineGroup& g = out.group;
  g.machine_name = Str(machine, {"metadata", "name"});
  g.machine_uid = Str(machine, {"metadata", "uid"});
  g.generation = json::GetInt(machine, {"metadata", "generation"});
  g.group = Str(machine, {"metadata", "labels", kGroupLabel});
  if (g.group.empty()) g.group = g.machine_name;
  g.deleting = json::Find(machine, {"metadata", "deletionTimestamp"}) != nullptr;
  g.max_per_member = static_cast<int32_t>(
      std::clamp<int64_t>(json::GetInt(machine, {"spec", "maxPerMember"}), 0, INT32_MAX));
  const Value* types = json::Find(machine, {"spec", "machineTypes"});
  if (types != nullptr && types->IsArray()) {
    for (size_t i = 0; i < types->Size(); ++i) {
      MachineType t;
      if (!ParseType((*types)[i], i, t, out.problems)) continue;
      if (g.FindType(t.name) != nullptr) {
        out.problems.push_back(absl::StrCat("spec.machineTypes: ", t.name, " is declared twice"));
        continue;
      }
      g.types.push_back(std::move(t));
    }
  }
  ParsePool(machine, out);
  ParsePriorities(machine, out);
  return out;
}

NodeInfo ParseNode(const Value& node) {
  NodeInfo n;
  n.name = Str(node, {"metadata", "name"});
  n.unschedulable = json::GetBool(node, {"spec", "unschedulable"});
  n.allocatable = ResourceList(json::Find(node, {"status", "allocatable"}));
  if (const Value* labels = json::Find(node, {"metadata", "labels"});
      labels && labels->IsObject()) {
    for (auto it = labels->MemberBegin(); it != labels->MemberEnd(); ++it) {
      if (it->value.IsString()) n.labels[std::string(json::View(it->name))] = json::View(it->value);
    }
  }
  const Value* conditions = json::Find(node, {"status", "conditions"});
  if (conditions != nullptr && conditions->IsArray()) {
    for (const Value& c : conditions->GetArray()) {
      if (json::GetString(c, {"type"}) == "Ready")
        n.ready = json::GetString(c, {"status"}) == "True";
    }
  }
  if (const Value* taints = json::Find(node, {"spec", "taints"}); taints && taints->IsArray()) {
    for (const Value& t : taints->GetArray()) {
      if (NotReadyTaint(json::GetString(t, {"key"}))) n.ready = false;
    }
  }
  return n;
}

Resources PodRequests(const Value& pod) {
  Resources sum;
  if (const Value* cs = json::Find(pod, {"spec", "containers"}); cs && cs->IsArray()) {
    for (const Value& c : cs->GetArray())
      sum += ResourceList(json::Find(c, {"resources", "requests"}));
  }
  if (const Value* cs = json::Find(pod, {"spec", "initContainers"}); cs && cs->IsArray()) {
    for (const Value& c : cs->GetArray()) {
      Resources r = ResourceList(json::Find(c, {"resources", "requests"}));
      sum.cpu_milli = std::max(sum.cpu_milli, r.cpu_milli);
      sum.memory_bytes = std::max(sum.memory_bytes, r.memory_bytes);
      for (const auto& [k, v] : r.extended) sum.extended[k] = std::max(sum.extended[k], v);
    }
  }
  sum += ResourceList(json::Find(pod, {"spec", "overhead"}));
  sum.extended[kPodsResource] = SaturatingAdd(sum.extended[kPodsResource], 1);
  return sum;
}

const kube::FieldMask& PodFields() {
  static const kube::FieldMask* mask =
      &(*new kube::FieldMask())
           .Keep({"spec", "nodeName"})
           .Keep({"spec", "containers", "resources", "requests"})
           .Keep({"spec", "initContainers", "resources", "requests"})
           .Keep({"spec", "overhead"})
           .Keep({"spec", "schedulingGates"})
           .Keep({"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                  "nodeSelectorTerms"})
           .Keep({"status", "phase"})
           .Keep({"status", "startTime"});
  return *mask;
}

const kube::FieldMask& NodeFields() {
  static const kube::FieldMask* mask = &(*new kube::FieldMask())
                                            .Keep({"spec", "unschedulable"})
                                            .Keep({"spec", "taints"})
                                            .Keep({"status", "allocatable"})
                                            .Keep({"status", "conditions"});
  return *mask;
}

PodView OrdinaryPod(const Value& pod, std::string why) {
  PodView v;
  v.forged = std::move(why);
  v.node = Str(pod, {"spec", "nodeName"});
  if (v.node.empty() || Finished(pod)) return v;
  v.kind = PodView::kOther;
  v.requests = PodRequests(pod);
  return v;
}

PodView ClassifyPod(const Value& pod, const std::string& reservation_ns, const GuestCheck& check) {
  PodView v;
  std::string role = Str(pod, {"metadata", "labels", kRoleLabel});
  std::string ns = Str(pod, {"metadata", "namespace"});
  std::string claim = Str(pod, {"metadata", "annotations", kClaimAnnotation});
  bool reservation = role == kRoleReservation && ns == reservation_ns;
  bool guest = role == kRoleGuest && !claim.empty();
  SlotPod& s = v.slot;
  s.ns = ns;
  s.name = Str(pod, {"metadata", "name"});
  s.uid = Str(pod, {"metadata", "uid"});
  s.group = Str(pod, {"metadata", "labels", kGroupLabel});
  s.type = Str(pod, {"metadata", "labels", kTypeLabel});
  s.claim_id = claim;
  if (role == kRoleGuest && claim.empty()) {
    int gate = QueueGateIndex(pod);
    if (gate >= 0 && !Finished(pod) && json::Find(pod, {"metadata", "deletionTimestamp"}) == nullptr) {
      std::string why = WhyNotWaiting(pod, s, check);
      if (why.empty()) return WaitingView(pod, std::move(s), gate);
      return OrdinaryPod(pod, std::move(why));
    }
  }
  if (guest) v.forged = WhyNotGuest(pod, s, check);
  if (!reservation && (!guest || !v.forged.empty())) return OrdinaryPod(pod, std::move(v.forged));
  v.kind = reservation ? PodView::kReservation : PodView::kGuest;
  s.role = reservation ? SlotRole::kReservation : SlotRole::kGuest;
  s.node = NodeOf(pod);
  s.running = json::GetString(pod, {"status", "phase"}) == "Running";
  s.terminating = json::Find(pod, {"metadata", "deletionTimestamp"}) != nullptr;
  s.finished = Finished(pod);
  absl::Time created = Created(pod);
  if (created != absl::InfinitePast()) s.created = created;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, Str(pod, {"status", "startTime"}), &s.started, &err)) {
    s.started = absl::InfinitePast();
  }
  return v;
}

}  // namespace labkube::scheduler
