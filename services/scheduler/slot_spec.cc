#include "services/scheduler/slot_spec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/kube/types.h"

namespace labkube::scheduler {
namespace {

using kube::Builder;
using rapidjson::Value;

Value Container(Builder& b, const MachineType& type, const ReservationOptions& options) {
  Value resources =
      b.Object({{"requests", b.Map(SlotResources(type))}, {"limits", b.Map(SlotResources(type))}});
  // Pod Security "restricted" (labkube-system enforces it): no escalation, no capabilities.
  Value security = b.Object({{"allowPrivilegeEscalation", b.Bool(false)},
                             {"readOnlyRootFilesystem", b.Bool(true)},
                             {"capabilities", b.Object({{"drop", b.Array({b.Str("ALL")})}})}});
  return b.Object({{"name", b.Str("pause")},
                   {"image", b.Str(options.image)},
                   {"resources", std::move(resources)},
                   {"securityContext", std::move(security)}});
}

// The pause image's own user (65535), never root; the runtime's default seccomp profile.
Value PodSecurity(Builder& b) {
  return b.Object({{"runAsNonRoot", b.Bool(true)},
                   {"runAsUser", b.Int(65535)},
                   {"runAsGroup", b.Int(65535)},
                   {"seccompProfile", b.Object({{"type", b.Str("RuntimeDefault")}})}});
}

Value PinToNode(Builder& b, const std::string& node) {
  Value field = b.Object({{"key", b.Str("metadata.name")},
                          {"operator", b.Str("In")},
                          {"values", b.Array({b.Str(node)})}});
  Value terms = b.Array({b.Object({{"matchFields", b.Array({std::move(field)})}})});
  Value required = b.Object({{"nodeSelectorTerms", std::move(terms)}});
  return b.Object({{"nodeAffinity", b.Object({{"requiredDuringSchedulingIgnoredDuringExecution",
                                               std::move(required)}})}});
}

// Always a list, empty on an untainted node.
Value Tolerations(Builder& b, const MachineGroup& group, const std::string& node) {
  Value list = b.Array({});
  for (const TolerationSpec& t : TolerationsFor(group, node)) {
    b.Push(list, b.Object({{"key", b.Str(t.key)},
                           {"operator", b.Str(t.op)},
                           {"value", b.Str(t.value)},
                           {"effect", b.Str(t.effect)}}));
  }
  return list;
}

kube::ObjectMeta ReservationMeta(const MachineGroup& group, const MachineType& type,
                                 const std::string& node, const ReservationOptions& options) {
  kube::ObjectMeta meta;
  meta.namespace_ = options.ns;
  meta.generate_name = absl::StrCat(group.group, "-", type.name, "-");
  meta.labels = {{kGroupLabel, group.group},
                 {kTypeLabel, type.name},
                 {kRoleLabel, kRoleReservation},
                 {contract::kManagedByLabel, "labkube"}};
  meta.annotations = {{kNodeAnnotation, node}};
  kube::OwnerReference& owner = meta.owner_references.emplace_back();
  owner.api_version = kube::resources::Machines().ApiVersion();
  owner.kind = "Machine";
  owner.name = group.machine_name;
  owner.uid = group.machine_uid;
  owner.controller = true;
  return meta;
}

}  // namespace

std::map<std::string, std::string> SlotResources(const MachineType& type) {
  std::map<std::string, std::string> r{{"cpu", type.cpu}, {"memory", type.memory}};
  if (type.gpu.count > 0) r[type.gpu.resource] = absl::StrCat(type.gpu.count);
  return r;
}

absl::StatusOr<rapidjson::Document> ReservationPod(const MachineGroup& group,
                                                   const MachineType& type, const std::string& node,
                                                   const ReservationOptions& options) {
  Builder b;
  Value spec = b.Object({{"containers", b.Array({Container(b, type, options)})},
                         {"securityContext", PodSecurity(b)},
                         {"priorityClassName", b.Str(options.priority_class)},
                         {"tolerations", Tolerations(b, group, node)},
                         {"affinity", PinToNode(b, node)},
                         {"terminationGracePeriodSeconds", b.Int(0)},
                         {"automountServiceAccountToken", b.Bool(false)},
                         {"enableServiceLinks", b.Bool(false)}});
  return b.Finish(b.Manifest("v1", "Pod", ReservationMeta(group, type, node, options),
                             {{"spec", std::move(spec)}}));
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
