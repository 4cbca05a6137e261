#include "services/scheduler/slot_spec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using rapidjson::Value;

Value StringMap(const std::map<std::string, std::string>& m, json::Allocator& a) {
  Value obj(rapidjson::kObjectType);
  for (const auto& [k, v] : m) obj.AddMember(json::String(k, a), json::String(v, a), a);
  return obj;
}

Value Container(const MachineType& type, const ReservationOptions& options, json::Allocator& a) {
  Value c(rapidjson::kObjectType);
  c.AddMember("name", "pause", a);
  c.AddMember("image", json::String(options.image, a), a);
  Value resources(rapidjson::kObjectType);
  resources.AddMember("requests", StringMap(SlotResources(type), a), a);
  resources.AddMember("limits", StringMap(SlotResources(type), a), a);
  c.AddMember("resources", resources, a);
  // Pod Security "restricted" (labkube-system enforces it): no escalation, no capabilities.
  Value drop(rapidjson::kArrayType);
  drop.PushBack("ALL", a);
  Value capabilities(rapidjson::kObjectType);
  capabilities.AddMember("drop", drop, a);
  Value security(rapidjson::kObjectType);
  security.AddMember("allowPrivilegeEscalation", false, a);
  security.AddMember("readOnlyRootFilesystem", true, a);
  security.AddMember("capabilities", capabilities, a);
  c.AddMember("securityContext", security, a);
  Value containers(rapidjson::kArrayType);
  containers.PushBack(c, a);
  return containers;
}

// The pause image's own user (65535), never root; the runtime's default seccomp profile.
Value PodSecurity(json::Allocator& a) {
  Value seccomp(rapidjson::kObjectType);
  seccomp.AddMember("type", "RuntimeDefault", a);
  Value security(rapidjson::kObjectType);
  security.AddMember("runAsNonRoot", true, a);
  security.AddMember("runAsUser", 65535, a);
  security.AddMember("runAsGroup", 65535, a);
  security.AddMember("seccompProfile", seccomp, a);
  return security;
}

Value PinToNode(const std::string& node, json::Allocator& a) {
  Value field(rapidjson::kObjectType);
  field.AddMember("key", "metadata.name", a);
  field.AddMember("operator", "In", a);
  Value values(rapidjson::kArrayType);
  values.PushBack(json::String(node, a), a);
  field.AddMember("values", values, a);
  Value fields(rapidjson::kArrayType);
  fields.PushBack(field, a);
  Value term(rapidjson::kObjectType);
  term.AddMember("matchFields", fields, a);
  Value terms(rapidjson::kArrayType);
  terms.PushBack(term, a);
  Value required(rapidjson::kObjectType);
  required.AddMember("nodeSelectorTerms", terms, a);
  Value node_affinity(rapidjson::kObjectType);
  node_affinity.AddMember("requiredDuringSchedulingIgnoredDuringExecution", required, a);
  Value affinity(rapidjson::kObjectType);
  affinity.AddMember("nodeAffinity", node_affinity, a);
  return affinity;
}

Value Tolerations(const MachineGroup& group, const std::string& node, json::Allocator& a) {
  Value list(rapidjson::kArrayType);
  for (const TolerationSpec& t : TolerationsFor(group, node)) {
    Value v(rapidjson::kObjectType);
    v.AddMember("key", json::String(t.key, a), a);
    v.AddMember("operator", json::String(t.op, a), a);
    v.AddMember("value", json::String(t.value, a), a);
    v.AddMember("effect", json::String(t.effect, a), a);
    list.PushBack(v, a);
  }
  return list;
}

Value OwnerReferences(const MachineGroup& group, json::Allocator& a) {
  Value ref(rapidjson::kObjectType);
  ref.AddMember("apiVersion", json::String(kube::resources::Machines().ApiVersion(), a), a);
  ref.AddMember("kind", "Machine", a);
  ref.AddMember("name", json::String(group.machine_name, a), a);
  ref.AddMember("uid", json::String(group.machine_uid, a), a);
  ref.AddMember("controller", true, a);
  Value refs(rapidjson::kArrayType);
  refs.PushBack(ref, a);
  return refs;
}

}  // namespace

std::map<std::string, std::string> SlotResources(const MachineType& type) {
  std::map<std::string, std::string> r{{"cpu", type.cpu}, {"memory", type.memory}};
  if (type.gpu.count > 0) r[type.gpu.resource] = absl::StrCat(type.gpu.count);
  return r;
}

rapidjson::Document ReservationPod(const MachineGroup& group, const MachineType& type,
                                   const std::string& node, const ReservationOptions& options) {
  rapidjson::Document pod = json::NewObject("v1", "Pod", options.ns, "");
  json::Allocator& a = pod.GetAllocator();
  json::SetString(pod, {"metadata", "generateName"},
                  absl::StrCat(group.group, "-", type.name, "-"));
  json::SetValue(pod, {"metadata", "labels"},
                 StringMap({{kGroupLabel, group.group},
                            {kTypeLabel, type.name},
                            {kRoleLabel, kRoleReservation},
                            {contract::kManagedByLabel, "labkube"}},
                           a));
  json::SetValue(pod, {"metadata", "annotations"}, StringMap({{kNodeAnnotation, node}}, a));
  json::Set(pod["metadata"], "ownerReferences", OwnerReferences(group, a), a);
  Value spec(rapidjson::kObjectType);
  spec.AddMember("containers", Container(type, options, a), a);
  spec.AddMember("securityContext", PodSecurity(a), a);
  spec.AddMember("priorityClassName", json::String(options.priority_class, a), a);
  spec.AddMember("tolerations", Tolerations(group, node, a), a);
  spec.AddMember("affinity", PinToNode(node, a), a);
  spec.AddMember("terminationGracePeriodSeconds", 0, a);
  spec.AddMember("automountServiceAccountToken", false, a);
  spec.AddMember("enableServiceLinks", false, a);
  pod.AddMember("spec", spec, a);
  return pod;
}

std::vector<TolerationSpec> TolerationsFor(const MachineGroup& group, const std::string& node) {
  std::vector<TolerationSpec> out;
  for (const PoolNode& entry : group.pool) {
    if (entry.node != node || !entry.taint) continue;
    for (const std::string& t : entry.machine_types) {
      out.push_back({absl::StrCat(kLabelPrefix, t), "Equal", group.group, "NoSchedule"});
    }
  }
  return out;
}

GuestSpec GuestSpecFor(const MachineGroup& group, const MachineType& type, const std::string& node,
                       const std::string& hostname) {
  GuestSpec s;
  s.resources = SlotResources(type);
  std::string type_key = absl::StrCat(kLabelPrefix, type.name);
  s.node_affinity.push_back({type_key, "In", {group.group}});
  s.node_affinity.push_back({kNodePoolLabel, "In", {"ready"}});
  if (!type.gpu.family.empty()) {
    s.node_affinity.push_back({"nvidia.com/gpu.family", "In", {type.gpu.family}});
  }
  if (!type.gpu.product.empty()) {
    s.node_affinity.push_back({"nvidia.com/gpu.product", "In", {type.gpu.product}});
  }
  if (!type.gpu.machine.empty()) {
    s.node_affinity.push_back({"nvidia.com/gpu.machine", "In", {type.gpu.machine}});
  }
  if (!hostname.empty()) s.node_affinity.push_back({"kubernetes.io/hostname", "In", {hostname}});
  s.tolerations = TolerationsFor(group, node);
  return s;
}

}  // namespace labkube::scheduler

namespace labkube::scheduler {

GuestSpec QueuedGuestSpec(const MachineGroup& group, const MachineType& type) {
  GuestSpec s = GuestSpecFor(group, type, "", "");
  for (const PoolNode& entry : group.pool) {
    if (std::find(entry.machine_types.begin(), entry.machine_types.end(), type.name) ==
        entry.machine_types.end()) {
      continue;
    }
    for (TolerationSpec& t : TolerationsFor(group, entry.node)) {
      bool known = std::any_of(s.tolerations.begin(), s.tolerations.end(), [&](const auto& have) {
        return have.key == t.key && have.value == t.value && have.effect == t.effect;
      });
      if (!known) s.tolerations.push_back(std::move(t));
    }
  }
  return s;
}

}  // namespace labkube::scheduler
