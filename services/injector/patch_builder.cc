#include "services/injector/patch_builder.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/quantity.h"
#include "services/injector/slot_share.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using rapidjson::Value;
using StringMap = std::map<std::string, std::string>;

constexpr char kRequired[] = "requiredDuringSchedulingIgnoredDuringExecution";

// The JSON Patch being built: an array of {"op":"add","path":...,"value":...}.
class Ops {
 public:
  Ops() { doc_.SetArray(); }
  json::Allocator& alloc() { return doc_.GetAllocator(); }
  void Add(const std::string& path, Value value) {
    Value op(rapidjson::kObjectType);
    op.AddMember("op", "add", alloc());
    op.AddMember("path", json::String(path, alloc()), alloc());
    op.AddMember("value", value, alloc());
    doc_.PushBack(op, alloc());
  }
  rapidjson::Document Take() { return std::move(doc_); }

 private:
  rapidjson::Document doc_;
};

absl::Status WrongType(std::string_view field, std::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("pod field ", ToAbsl(field), " is not ", ToAbsl(want)));
}

// Member `key` of `parent` when it is an object; nullptr when absent or null; an error when of
// another type (the patch would not apply to it).
absl::StatusOr<const Value*> ObjectMember(const Value& parent, std::string_view key,
                                          std::string_view field) {
  const Value* v = json::FindMember(parent, key);
  if (v == nullptr || v->IsNull()) return nullptr;
  if (!v->IsObject()) return WrongType(field, "an object");
  return v;
}

absl::StatusOr<const Value*> ArrayMember(const Value& parent, std::string_view key,
                                         std::string_view field) {
  const Value* v = json::FindMember(parent, key);
  if (v == nullptr || v->IsNull()) return nullptr;
  if (!v->IsArray()) return WrongType(field, "an array");
  return v;
}

Value StringMapValue(const StringMap& map, json::Allocator& a) {
  Value out(rapidjson::kObjectType);
  for (const auto& [k, v] : map) out.AddMember(json::String(k, a), json::String(v, a), a);
  return out;
}

bool HasString(const Value& object, std::string_view key, std::string_view want) {
  const Value* v = json::FindMember(object, key);
  return v != nullptr && v->IsString() && json::View(*v) == want;
}

// --- Resources ---

// The quantity `v` of resource `name` (cpu in millicores, anything else in units).
absl::StatusOr<int64_t> Amount(std::string_view name, const Value& v) {
  return name == "cpu" ? kube::QuantityMilli(v) : kube::QuantityValue(v);
}

std::string QuantityText(const Value& v) {
  return v.IsString() ? std::string(json::View(v)) : json::ToString(v);
}

// Refuses a container that asks (in requests or limits) for more of a resource than the type.
// `whole` is the type's full amount of each resource, for the message when `slot` is the
// target's share of it (slot_share.h).
absl::Status CheckNotMore(const Value& container, const Value* resources, const StringMap& slot,
                          std::string_view type, const StringMap& whole = {}) {
  if (resources == nullptr) return absl::OkStatus();
  std::string_view name = json::GetString(container, {"name"});
  for (const auto& [resource, text] : slot) {
    Value given(rapidjson::StringRef(text.data(), text.size()));
    absl::StatusOr<int64_t> gives = Amount(resource, given);
    if (!gives.ok()) {
      return absl::InternalError(absl::StrCat("the claim's ", gives.status().message()));
    }
    for (std::string_view field : {"requests", "limits"}) {
      const Value* asked = json::Find(*resources, {field, resource});
      if (asked == nullptr || asked->IsNull()) continue;
      absl::StatusOr<int64_t> asks = Amount(resource, *asked);
      std::string where = absl::StrCat("container \"", ToAbsl(name), "\" resources.", ToAbsl(field),
                                       "[\"", resource, "\"]");
      if (!asks.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " is not a valid quantity (", QuantityText(*asked), ")"));
      }
      if (*asks > *gives) {
        auto full = whole.find(resource);
        std::string gives = full == whole.end() || full->second == text
                                ? absl::StrCat("gives (", text, ")")
                                : absl::StrCat("leaves it (", text, " of ", full->second,
                                               "; the other containers ask for the rest)");
        return absl::InvalidArgumentError(
            absl::StrCat(where, " is ", QuantityText(*asked), ", more than machine type \"",
                         ToAbsl(type), "\" ", gives,
                         "; remove it (labkube sets requests = limits to the type's "
                         "resources) or choose a larger machine type"));
      }
    }
  }
  return absl::OkStatus();
}

// Refuses a plain init container that asks for more than the type (it runs alone, before the
// others, so up to the whole slot is fine).
absl::Status CheckInitContainers(const Value& pod, const StringMap& slot, std::string_view type) {
  const Value* inits = json::Find(pod, {"spec", "initContainers"});
  if (inits == nullptr || !inits->IsArray()) return absl::OkStatus();
  for (const Value& c : inits->GetArray()) {
    if (!c.IsObject() || json::GetString(c, {"restartPolicy"}) == "Always") continue;
    absl::StatusOr<const Value*> resources =
        ObjectMember(c, "resources", "an init container's resources");
    if (!resources.ok()) return resources.status();
    if (absl::Status s = CheckNotMore(c, *resources, slot, type); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Adds the claim's requests (or limits) to `field` of the container's resources.
absl::Status AddResourceMap(const Value& resources, std::string_view field, const StringMap& want,
                            const std::string& base, Ops& ops) {
  if (want.empty()) return absl::OkStatus();
  std::string path = absl::StrCat(base, "/", ToAbsl(field));
  absl::StatusOr<const Value*> have = ObjectMember(resources, field, path);
  if (!have.ok()) return have.status();
  if (*have == nullptr) {
    ops.Add(path, StringMapValue(want, ops.alloc()));
    return absl::OkStatus();
  }
  for (const auto& [k, v] : want) {
    if (HasString(**have, k, v)) continue;
    ops.Add(absl::StrCat(path, "/", EscapeJsonPointer(k)), json::String(v, ops.alloc()));
  }
  return absl::OkStatus();
}

absl::Status PatchResources(const Value& pod, const ClaimResponse& granted, std::string_view type,
                            Ops& ops) {
  absl::StatusOr<size_t> index = TargetContainer(pod);
  if (!index.ok()) return index.status();
  absl::StatusOr<ClaimResponse> claim = ShareSlot(pod, *index, granted, type);
  if (!claim.ok()) return claim.status();
  const Value& container =
      (*json::Find(pod, {"spec", "containers"}))[static_cast<rapidjson::SizeType>(*index)];
  if (!container.IsObject()) {
    return WrongType(absl::StrCat("/spec/containers/", *index), "an object");
  }
  std::string base = absl::StrCat("/spec/containers/", *index, "/resources");
  absl::StatusOr<const Value*> resources = ObjectMember(container, "resources", base);
  if (!resources.ok()) return resources.status();
  StringMap slot = claim->requests;
  for (const auto& [k, v] : claim->limits) slot[k] = v;  // requests = limits; limits win
  StringMap whole = granted.requests;  // a plain init container runs alone: up to the whole type
  for (const auto& [k, v] : granted.limits) whole[k] = v;
  if (absl::Status s = CheckNotMore(container, *resources, slot, type, whole); !s.ok()) return s;
  if (absl::Status s = CheckInitContainers(pod, whole, type); !s.ok()) return s;
  if (*resources == nullptr) {
    Value value(rapidjson::kObjectType);
    if (!claim->requests.empty()) {
      value.AddMember("requests", StringMapValue(claim->requests, ops.alloc()), ops.alloc());
    }
    if (!claim->limits.empty()) {
      value.AddMember("limits", StringMapValue(claim->limits, ops.alloc()), ops.alloc());
    }
    if (!value.ObjectEmpty()) ops.Add(base, std::move(value));
    return absl::OkStatus();
  }
  if (absl::Status s = AddResourceMap(**resources, "requests", claim->requests, base, ops);
      !s.ok()) {
    return s;
  }
  return AddResourceMap(**resources, "limits", claim->limits, base, ops);
}

// --- Node affinity ---

Value RequirementValue(const NodeRequirement& r, json::Allocator& a) {
  Value out(rapidjson::kObjectType);
  out.AddMember("key", json::String(r.key, a), a);
  out.AddMember("operator", json::String(r.op, a), a);
  if (!r.values.empty()) {
    Value values(rapidjson::kArrayType);
    for (const std::string& v : r.values) values.PushBack(json::String(v, a), a);
    out.AddMember("values", values, a);
  }
  return out;
}

bool SameRequirement(const Value& have, const NodeRequirement& r) {
  if (!have.IsObject() || !HasString(have, "key", r.key) || !HasString(have, "operator", r.op)) {
    return false;
  }
  const Value* values = json::FindMember(have, "values");
  if (values == nullptr || values->IsNull()) return r.values.empty();
  if (!values->IsArray() || values->Size() != r.values.size()) return false;
  for (rapidjson::SizeType i = 0; i < values->Size(); ++i) {
    if (!(*values)[i].IsString() || json::View((*values)[i]) != r.values[i]) return false;
  }
  return true;
}

Value NewTerms(const std::vector<NodeRequirement>& reqs, json::Allocator& a) {
  Value expressions(rapidjson::kArrayType);
  for (const NodeRequirement& r : reqs) expressions.PushBack(RequirementValue(r, a), a);
  Value term(rapidjson::kObjectType);
  term.AddMember("matchExpressions", expressions, a);
  Value terms(rapidjson::kArrayType);
  terms.PushBack(term, a);
  return terms;
}

// Wraps `inner` in objects named by `keys`, innermost last: {"k0": {"k1": inner}}.
Value Wrap(std::vector<std::string_view> keys, Value inner, json::Allocator& a) {
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    Value outer(rapidjson::kObjectType);
    outer.AddMember(json::String(*it, a), inner, a);
    inner = std::move(outer);
  }
  return inner;
}

// ANDs the requirements into one existing term (only those it does not have yet).
absl::Status PatchTerm(const Value& term, const std::vector<NodeRequirement>& reqs,
                       const std::string& path, Ops& ops) {
  if (!term.IsObject()) return WrongType(path, "an object");
  std::string expr_path = path + "/matchExpressions";
  absl::StatusOr<const Value*> have = ArrayMember(term, "matchExpressions", expr_path);
  if (!have.ok()) return have.status();
  std::vector<NodeRequirement> missing;
  for (const NodeRequirement& r : reqs) {
    bool present = false;
    if (*have != nullptr) {
      for (const Value& e : (*have)->GetArray()) present = present || SameRequirement(e, r);
    }
    for (const NodeRequirement& m : missing) present = present || m == r;
    if (!present) missing.push_back(r);
  }
  if (missing.empty()) return absl::OkStatus();
  if (*have == nullptr) {
    Value list(rapidjson::kArrayType);
    for (const NodeRequirement& r : missing) {
      list.PushBack(RequirementValue(r, ops.alloc()), ops.alloc());
    }
    ops.Add(expr_path, std::move(list));
    return absl::OkStatus();
  }
  for (const NodeRequirement& r : missing) {
    ops.Add(expr_path + "/-", RequirementValue(r, ops.alloc()));
  }
  return absl::OkStatus();
}

absl::Status PatchAffinity(const Value& spec, const std::vector<NodeRequirement>& reqs, Ops& ops) {
  if (reqs.empty()) return absl::OkStatus();
  json::Allocator& a = ops.alloc();
  std::vector<std::string_view> chain = {"affinity", "nodeAffinity", kRequired};
  const Value* parent = &spec;
  std::string path = "/spec";
  for (size_t i = 0; i < chain.size(); ++i) {
    path = absl::StrCat(path, "/", ToAbsl(chain[i]));
    absl::StatusOr<const Value*> next = ObjectMember(*parent, chain[i], path);
    if (!next.ok()) return next.status();
    if (*next == nullptr) {  // add the rest of the chain whole
      std::vector<std::string_view> rest(chain.begin() + i + 1, chain.end());
      rest.push_back("nodeSelectorTerms");
      ops.Add(path, Wrap(rest, NewTerms(reqs, a), a));
      return absl::OkStatus();
    }
    parent = *next;
  }
  path += "/nodeSelectorTerms";
  absl::StatusOr<const Value*> terms = ArrayMember(*parent, "nodeSelectorTerms", path);
  if (!terms.ok()) return terms.status();
  if (*terms == nullptr || (*terms)->Empty()) {
    ops.Add(path, NewTerms(reqs, a));
    return absl::OkStatus();
  }
  for (rapidjson::SizeType j = 0; j < (*terms)->Size(); ++j) {
    absl::Status s = PatchTerm((**terms)[j], reqs, absl::StrCat(path, "/", j), ops);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// --- Tolerations and annotations ---

Value TolerationValue(const Toleration& t, json::Allocator& a) {
  Value out(rapidjson::kObjectType);
  std::pair<const char*, const std::string*> fields[] = {
      {"key", &t.key}, {"operator", &t.op}, {"value", &t.value}, {"effect", &t.effect}};
  for (auto& [name, value] : fields) {
    if (!value->empty()) out.AddMember(rapidjson::StringRef(name), json::String(*value, a), a);
  }
  return out;
}

bool SameToleration(const Value& have, const Toleration& t) {
  if (!have.IsObject()) return false;
  const Value* seconds = json::FindMember(have, "tolerationSeconds");
  if (seconds != nullptr && !seconds->IsNull()) return false;
  auto field = [&have](std::string_view key) { return json::GetString(have, {key}); };
  std::string_view op = field("operator").empty() ? "Equal" : field("operator");
  std::string_view want_op = t.op.empty() ? std::string_view("Equal") : std::string_view(t.op);
  return field("key") == t.key && op == want_op && field("value") == t.value &&
         field("effect") == t.effect;
}

absl::Status PatchTolerations(const Value& spec, const std::vector<Toleration>& tolerations,
                              Ops& ops) {
  if (tolerations.empty()) return absl::OkStatus();
  absl::StatusOr<const Value*> have = ArrayMember(spec, "tolerations", "/spec/tolerations");
  if (!have.ok()) return have.status();
  std::vector<Toleration> missing;
  for (const Toleration& t : tolerations) {
    bool present = false;
    if (*have != nullptr) {
      for (const Value& e : (*have)->GetArray()) present = present || SameToleration(e, t);
    }
    for (const Toleration& m : missing) present = present || m == t;
    if (!present) missing.push_back(t);
  }
  if (missing.empty()) return absl::OkStatus();
  if (*have == nullptr) {
    Value list(rapidjson::kArrayType);
    for (const Toleration& t : missing) list.PushBack(TolerationValue(t, ops.alloc()), ops.alloc());
    ops.Add("/spec/tolerations", std::move(list));
    return absl::OkStatus();
  }
  for (const Toleration& t : missing) {
    ops.Add("/spec/tolerations/-", TolerationValue(t, ops.alloc()));
  }
  return absl::OkStatus();
}

absl::Status PatchAnnotations(const Value& pod, const StringMap& annotations, Ops& ops) {
  if (annotations.empty()) return absl::OkStatus();
  absl::StatusOr<const Value*> metadata = ObjectMember(pod, "metadata", "/metadata");
  if (!metadata.ok()) return metadata.status();
  if (*metadata == nullptr) {
    ops.Add("/metadata",
            Wrap({"annotations"}, StringMapValue(annotations, ops.alloc()), ops.alloc()));
    return absl::OkStatus();
  }
  absl::StatusOr<const Value*> have =
      ObjectMember(**metadata, "annotations", "/metadata/annotations");
  if (!have.ok()) return have.status();
  if (*have == nullptr) {
    ops.Add("/metadata/annotations", StringMapValue(annotations, ops.alloc()));
    return absl::OkStatus();
  }
  for (const auto& [k, v] : annotations) {
    if (HasString(**have, k, v)) continue;
    ops.Add("/metadata/annotations/" + EscapeJsonPointer(k), json::String(v, ops.alloc()));
  }
  return absl::OkStatus();
}

// The queue's scheduling gate, for a pod admitted to wait.
absl::Status PatchGate(const Value& spec, Ops& ops) {
  absl::StatusOr<const Value*> have =
      ArrayMember(spec, "schedulingGates", "/spec/schedulingGates");
  if (!have.ok()) return have.status();
  Value gate(rapidjson::kObjectType);
  gate.AddMember("name", rapidjson::StringRef(contract::kQueueGate), ops.alloc());
  if (*have == nullptr) {
    Value list(rapidjson::kArrayType);
    list.PushBack(gate, ops.alloc());
    ops.Add("/spec/schedulingGates", std::move(list));
    return absl::OkStatus();
  }
  for (const Value& g : (*have)->GetArray()) {
    if (json::GetString(g, {"name"}) == contract::kQueueGate) return absl::OkStatus();
  }
  ops.Add("/spec/schedulingGates/-", std::move(gate));
  return absl::OkStatus();
}

}  // namespace

std::string EscapeJsonPointer(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<size_t> TargetContainer(const Value& pod) {
  const Value* containers_value = json::Find(pod, {"spec", "containers"});
  if (containers_value == nullptr || !containers_value->IsArray() || containers_value->Empty()) {
    return absl::InvalidArgumentError("the pod has no containers");
  }
  const Value& containers = *containers_value;
  std::string_view wanted = json::GetString(pod, {"metadata", "labels", kInjectingContainerLabel});
  if (wanted.empty()) return 0;
  std::vector<std::string> names;
  for (rapidjson::SizeType i = 0; i < containers.Size(); ++i) {
    std::string_view name = json::GetString(containers[i], {"name"});
    if (name == wanted) return i;
    names.emplace_back(name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "pod label ", kInjectingContainerLabel, " names container \"", ToAbsl(wanted),
      "\", but the pod has no such container (containers: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<rapidjson::Document> BuildPatch(const Value& pod, const ClaimResponse& claim,
                                               std::string_view machine_type) {
  const Value* spec_value = json::FindMember(pod, "spec");
  if (spec_value == nullptr || !spec_value->IsObject()) return WrongType("/spec", "an object");
  const Value& spec = *spec_value;
  Ops ops;
  if (absl::Status s = PatchResources(pod, claim, machine_type, ops); !s.ok()) return s;
  if (absl::Status s = PatchAffinity(spec, claim.node_affinity, ops); !s.ok()) return s;
  if (absl::Status s = PatchTolerations(spec, claim.tolerations, ops); !s.ok()) return s;
  if (absl::Status s = PatchAnnotations(pod, claim.annotations, ops); !s.ok()) return s;
  if (claim.queued) {
    if (absl::Status s = PatchGate(spec, ops); !s.ok()) return s;
  }
  return ops.Take();
}

}  // namespace labkube::injector
