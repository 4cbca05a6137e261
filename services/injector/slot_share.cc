#include "services/injector/slot_share.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/quantity.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;
using rapidjson::Value;

// A part of the pod that runs beside the target: its name for messages and its resource list.
struct Beside {
  std::string who;
  const Value* requests = nullptr;  // requests, else limits (the API server defaults to them)
  const Value* limits = nullptr;
};

std::vector<Beside> BesideTarget(const Value& pod, size_t target) {
  std::vector<Beside> out;
  auto add = [&](const Value& c, std::string_view kind) {
    out.push_back({absl::StrCat(ToAbsl(kind), " \"", ToAbsl(json::GetString(c, {"name"})), "\""),
                   json::Find(c, {"resources", "requests"}),
                   json::Find(c, {"resources", "limits"})});
  };
  if (const Value* cs = json::Find(pod, {"spec", "containers"}); cs != nullptr && cs->IsArray()) {
    for (rapidjson::SizeType i = 0; i < cs->Size(); ++i) {
      if (i != target) add((*cs)[i], "container");
    }
  }
  if (const Value* cs = json::Find(pod, {"spec", "initContainers"});
      cs != nullptr && cs->IsArray()) {
    for (const Value& c : cs->GetArray()) {
      if (json::GetString(c, {"restartPolicy"}) == "Always") add(c, "sidecar init container");
    }
  }
  if (const Value* overhead = json::Find(pod, {"spec", "overhead"}); overhead != nullptr) {
    out.push_back({"the pod's overhead (its runtimeClass)", overhead, nullptr});
  }
  return out;
}

// The quantity of `resource` a part asks for: its request, else its limit, else 0.
absl::StatusOr<int64_t> Asked(const Beside& b, std::string_view resource) {
  for (const Value* list : {b.requests, b.limits}) {
    const Value* v =
        list != nullptr && list->IsObject() ? json::FindMember(*list, resource) : nullptr;
    if (v == nullptr || v->IsNull()) continue;
    return resource == "cpu" ? kube::QuantityMilli(*v) : kube::QuantityValue(*v);
  }
  return 0;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? std::numeric_limits<int64_t>::max() : out;
}

// A quantity as Kubernetes users write it: cpu "3900m" or "4", memory "32704Mi" (binary
// suffixes when exact, else bytes).
std::string Format(bool cpu, int64_t v) {
  if (cpu) return v % 1000 == 0 ? absl::StrCat(v / 1000) : absl::StrCat(v, "m");
  for (auto [shift, suffix] : {std::pair{40, "Ti"}, {30, "Gi"}, {20, "Mi"}, {10, "Ki"}}) {
    int64_t unit = int64_t{1} << shift;
    if (v % unit == 0) return absl::StrCat(v / unit, suffix);
  }
  return absl::StrCat(v);
}

absl::Status Unreadable(const Beside& b, std::string_view resource) {
  return absl::InvalidArgumentError(absl::StrCat(b.who, " resources[\"", ToAbsl(resource),
                                                 "\"] is not a valid, non-negative quantity"));
}

}  // namespace

absl::Status CheckSidecars(const Value& pod, size_t target) {
  for (const Beside& b : BesideTarget(pod, target)) {
    for (const Value* list : {b.requests, b.limits}) {
      if (list == nullptr || !list->IsObject()) continue;
      for (auto it = list->MemberBegin(); it != list->MemberEnd(); ++it) {
        std::string_view name = json::View(it->name);
        if (name.find('/') == std::string_view::npos) continue;
        absl::StatusOr<int64_t> n = kube::QuantityValue(it->value);
        if (n.ok() && *n == 0) continue;
        return absl::InvalidArgumentError(absl::StrCat(b.who, " asks for ", ToAbsl(name),
                                                       ", but a guest's GPUs (and other extended "
                                                       "resources) all go to one container (label ",
                                                       contract::kInjectingContainerLabel,
                                                       " picks it); remove "
                                                       "it from the other containers"));
      }
    }
    for (std::string_view r : {"cpu", "memory"}) {
      absl::StatusOr<int64_t> n = Asked(b, r);
      if (!n.ok() || *n < 0) return Unreadable(b, r);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ClaimResponse> ShareSlot(const Value& pod, size_t target, ClaimResponse claim,
                                        std::string_view machine_type) {
  std::vector<Beside> beside = BesideTarget(pod, target);
  for (std::string_view resource : {"cpu", "memory"}) {
    auto given = claim.limits.find(std::string(resource));
    if (given == claim.limits.end()) continue;
    bool cpu = resource == "cpu";
    absl::StatusOr<int64_t> total =
        cpu ? kube::ParseQuantityMilli(given->second) : kube::ParseQuantity(given->second);
    if (!total.ok())
      return absl::InternalError(absl::StrCat("the claim's ", total.status().message()));
    int64_t rest = 0;
    std::vector<std::string> who;
    for (const Beside& b : beside) {
      absl::StatusOr<int64_t> n = Asked(b, resource);
      if (!n.ok() || *n < 0) return Unreadable(b, resource);
      if (*n > 0) who.push_back(b.who);
      rest = SaturatingAdd(rest, *n);
    }
    if (rest == 0) continue;
    if (rest >= *total) {
      return absl::InvalidArgumentError(
          absl::StrCat(who.front(), who.size() > 1 ? " and the other containers ask" : " asks",
                       " for ", ToAbsl(resource), " that leaves nothing of machine type \"",
                       ToAbsl(machine_type), "\" (", Format(cpu, *total),
                       " for the whole pod) to the container that gets the slot; "
                       "ask for less beside it, or choose a larger machine type"));
    }
    std::string share = Format(cpu, *total - rest);
    claim.limits[std::string(resource)] = share;
    if (claim.requests.count(std::string(resource))) claim.requests[std::string(resource)] = share;
  }
  return claim;
}

}  // namespace labkube::injector
