#include "services/gateway/workspace_status.h"

#include <set>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "services/gateway/names.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

std::string Str(std::string_view s) { return std::string(s); }

// Container waiting reasons that need a change (image, config) rather than patience.
bool IsFailureReason(std::string_view reason) {
  static const std::set<std::string_view> kFailures = {
      "ErrImagePull",      "ImagePullBackOff",           "InvalidImageName",
      "CrashLoopBackOff",  "CreateContainerConfigError", "CreateContainerError",
      "RunContainerError", "ErrImageNeverPull"};
  return kFailures.count(reason) > 0;
}

// Admission refusals that mean "wait for a machine".
bool IsWaitingMessage(std::string_view message) {
  return absl::StrContains(ToAbsl(message), "no free ") ||
         absl::StrContains(ToAbsl(message), "in maintenance or not ready");
}

std::string_view EventTime(const rapidjson::Value& e) {
  for (std::string_view field : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
    std::string_view t = json::GetString(e, {field});
    if (!t.empty()) return t;
  }
  return json::GetString(e, {"metadata", "creationTimestamp"});
}

// "ws-a-7d9f8c" is a ReplicaSet of "ws-a" (prefix "ws-a-"), "ws-a-b-7d9f8c" is not.
bool IsChildName(std::string_view name, std::string_view prefix) {
  if (!absl::StartsWith(ToAbsl(name), ToAbsl(prefix))) return false;
  std::string_view rest = name.substr(prefix.size());
  return !rest.empty() && rest.find('-') == std::string_view::npos;
}

// The newest Warning event about an object whose name starts with `prefix` (and, when
// `exact`, equals it).
const rapidjson::Value* LatestWarning(const std::vector<const rapidjson::Value*>& events,
                                      std::string_view name, bool exact) {
  const rapidjson::Value* best = nullptr;
  for (const rapidjson::Value* e : events) {
    if (json::GetString(*e, {"type"}) != "Warning") continue;
    std::string_view involved = json::GetString(*e, {"involvedObject", "name"});
    if (exact ? involved != name : !IsChildName(involved, name)) continue;
    if (best == nullptr || EventTime(*e) >= EventTime(*best)) best = e;
  }
  return best;
}

bool ConditionIs(const rapidjson::Value& object, std::string_view type, std::string_view status,
                 std::string* reason = nullptr, std::string* message = nullptr) {
  const rapidjson::Value* conditions = json::Find(object, {"status", "conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return false;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (json::GetString(c, {"type"}) != type) continue;
    if (reason != nullptr) *reason = Str(json::GetString(c, {"reason"}));
    if (message != nullptr) *message = Str(json::GetString(c, {"message"}));
    return json::GetString(c, {"status"}) == status;
  }
  return false;
}

// Strips the admission boilerplate: '... denied the request: labkube: X' -> 'X'.
std::string AdmissionDetail(std::string_view message) {
  size_t at = message.find("labkube: ");
  return Str(at == std::string_view::npos ? message : message.substr(at + 9));
}

PhaseInfo NoPod(const rapidjson::Value& deployment,
                const std::vector<const rapidjson::Value*>& events) {
  std::string name = Str(json::GetString(deployment, {"metadata", "name"}));
  std::string message;
  if (const rapidjson::Value* e = LatestWarning(events, absl::StrCat(name, "-"), false);
      e != nullptr && json::GetString(*e, {"reason"}) == "FailedCreate") {
    message = Str(json::GetString(*e, {"message"}));
  } else {
    std::string reason;
    if (!ConditionIs(deployment, "ReplicaFailure", "True", &reason, &message)) message.clear();
  }
  if (message.empty()) return {gw::PHASE_STARTING, "Creating", "creating the pod", "", ""};
  if (IsWaitingMessage(message)) {
    return {gw::PHASE_WAITING,
            absl::StrContains(message, "no free ") ? "NoFreeSlot" : "MachinesUnavailable",
            AdmissionDetail(message), "", ""};
  }
  return {gw::PHASE_FAILED, "FailedCreate", AdmissionDetail(message), "", ""};
}

const rapidjson::Value* NewestPod(const std::vector<const rapidjson::Value*>& pods,
                                  bool* only_terminating) {
  const rapidjson::Value* best = nullptr;
  *only_terminating = !pods.empty();
  for (const rapidjson::Value* p : pods) {
    if (json::Find(*p, {"metadata", "deletionTimestamp"}) != nullptr) continue;
    *only_terminating = false;
    if (best == nullptr || json::GetString(*p, {"metadata", "creationTimestamp"}) >=
                               json::GetString(*best, {"metadata", "creationTimestamp"})) {
      best = p;
    }
  }
  return best;
}

// The pod waits in labkube's queue (the gate the injector adds, the scheduler removes).
bool QueueGated(const rapidjson::Value& pod) {
  const rapidjson::Value* gates = json::Find(pod, {"spec", "schedulingGates"});
  if (gates == nullptr || !gates->IsArray()) return false;
  for (const rapidjson::Value& g : gates->GetArray()) {
    if (json::GetString(g, {"name"}) == contract::kQueueGate) return true;
  }
  return false;
}

// The first container waiting reason/message, if any.
bool ContainerWaiting(const rapidjson::Value& pod, std::string* reason, std::string* message) {
  const rapidjson::Value* statuses = json::Find(pod, {"status", "containerStatuses"});
  if (statuses == nullptr || !statuses->IsArray()) return false;
  for (const rapidjson::Value& cs : statuses->GetArray()) {
    std::string_view r = json::GetString(cs, {"state", "waiting", "reason"});
    if (r.empty()) continue;
    *reason = Str(r);
    *message = Str(json::GetString(cs, {"state", "waiting", "message"}));
    return true;
  }
  return false;
}

PhaseInfo WithPod(const rapidjson::Value& pod, const std::vector<const rapidjson::Value*>& events) {
  PhaseInfo info;
  info.node = Str(json::GetString(pod, {"spec", "nodeName"}));
  const std::string pod_name = Str(json::GetString(pod, {"metadata", "name"}));
  const rapidjson::Value* warning = LatestWarning(events, pod_name, true);
  const std::string warning_message =
      warning == nullptr ? "" : Str(json::GetString(*warning, {"message"}));
  std::string_view phase = json::GetString(pod, {"status", "phase"});
  std::string reason, message;
  if (phase == "Failed" || phase == "Succeeded") {
    std::string_view r = json::GetString(pod, {"status", "reason"});
    info.phase = gw::PHASE_FAILED;
    info.reason = r.empty() ? (phase == "Failed" ? "PodFailed" : "Exited") : Str(r);
    info.message = Str(json::GetString(pod, {"status", "message"}));
    if (info.message.empty()) info.message = warning_message;
    if (info.message.empty()) info.message = "the workspace process ended";
  } else if (ContainerWaiting(pod, &reason, &message) && IsFailureReason(reason)) {
    info = {gw::PHASE_FAILED, reason, message.empty() ? warning_message : message, info.node, ""};
  } else if (PodReady(pod)) {
    info.phase = gw::PHASE_RUNNING;
  } else if (info.node.empty() && QueueGated(pod)) {
    std::string_view waiting =
        json::GetString(pod, {"metadata", "annotations", contract::kWaitingAnnotation});
    info.phase = gw::PHASE_WAITING;
    info.reason = "InLine";
    info.message = absl::StrCat("waiting in line for a ",
                                waiting.empty() ? "machine" : ToAbsl(waiting), " slot");
    info.queued_pod = pod_name;
  } else if (info.node.empty()) {
    info.phase = gw::PHASE_WAITING;
    std::string cond_reason, cond_message;
    ConditionIs(pod, "PodScheduled", "False", &cond_reason, &cond_message);
    info.reason = cond_reason.empty() ? "Scheduling" : cond_reason;
    info.message = cond_message.empty() ? "waiting for a node" : cond_message;
  } else {
    info.phase = gw::PHASE_STARTING;
    info.reason = reason.empty() ? "ContainerStarting" : reason;
    info.message = !message.empty() ? message
                   : !warning_message.empty()
                       ? warning_message
                       : absl::StrCat("starting on ", info.node, " (pulling the image, starting)");
  }
  return info;
}

}  // namespace

bool PodReady(const rapidjson::Value& pod) { return ConditionIs(pod, "Ready", "True"); }

PhaseInfo WorkspacePhase(const rapidjson::Value& deployment,
                         const std::vector<const rapidjson::Value*>& pods,
                         const std::vector<const rapidjson::Value*>& events) {
  if (json::Find(deployment, {"metadata", "deletionTimestamp"}) != nullptr) {
    return {gw::PHASE_STOPPING, "Stopping", "the workspace is being removed", "", ""};
  }
  bool only_terminating = false;
  const rapidjson::Value* pod = NewestPod(pods, &only_terminating);
  if (pod != nullptr) return WithPod(*pod, events);
  if (only_terminating) {
    return {gw::PHASE_STARTING, "Restarting", "waiting for the previous pod to stop", "", ""};
  }
  return NoPod(deployment, events);
}

}  // namespace labkube::gateway
