#include "services/scheduler/leader_mark.h"

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/status_macros.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

}  // namespace

absl::Status LeaderPodMarker::Mark(const std::string& pod, bool leader) {
  rapidjson::Document patch(rapidjson::kObjectType);
  rapidjson::Value labels(rapidjson::kObjectType);
  labels.AddMember(rapidjson::StringRef(contract::kSchedulerLeaderLabel),
                   leader ? rapidjson::Value("true") : rapidjson::Value(rapidjson::kNullType),
                   patch.GetAllocator());
  json::SetPath(patch, {"metadata", "labels"}, std::move(labels), patch.GetAllocator());
  absl::Status s = client_
                       .Patch(res::Pods(), ns_, pod, kube::PatchType::kMergePatch,
                              json::ToString(patch))
                       .status();
  if (absl::IsNotFound(s) && !leader) return absl::OkStatus();  // that pod is gone
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat(leader ? "labelling" : "unlabelling", " pod ", ns_,
                                               "/", pod, " as the scheduler leader: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status LeaderPodMarker::Sync(bool leading) {
  if (!leading) return Mark(pod_, false);
  LK_RETURN_IF_ERROR(Mark(pod_, true));
  kube::ListOptions o;
  o.label_selector = absl::StrCat(contract::kSchedulerLeaderLabel, "=true");
  LK_ASSIGN_OR_RETURN(kube::ObjectList marked, client_.List(res::Pods(), ns_, o));
  for (const rapidjson::Value& pod : marked.items().GetArray()) {
    std::string name(json::GetString(pod, {"metadata", "name"}));
    if (name != pod_) LK_RETURN_IF_ERROR(Mark(name, false));
  }
  return absl::OkStatus();
}

}  // namespace labkube::scheduler
