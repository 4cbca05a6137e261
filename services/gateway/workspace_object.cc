#include "services/gateway/workspace_object.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/names.h"
#include "lib/status_macros.h"
#include "services/gateway/names.h"
#include "services/gateway/workspace_spec.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

constexpr size_t kMaxPullSecrets = 8;
constexpr size_t kMaxVolumes = 16;

std::string Str(std::string_view s) { return std::string(s); }

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), ": ", ToAbsl(what)));
}

absl::Status CheckImage(std::string_view image) {
  LK_RETURN_IF_ERROR(names::CheckLength("spec.image", image, 512));
  for (char c : image) {
    if (c <= ' ' || c == 0x7f) {
      return Invalid("spec.image", absl::StrCat("\"", ToAbsl(image), "\" is not an image reference"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParsePullSecrets(const rapidjson::Value& spec, WorkspaceRequest& r) {
  const rapidjson::Value* list = json::Find(spec, {"imagePullSecrets"});
  if (list == nullptr) return absl::OkStatus();
  if (!list->IsArray() || list->Size() > kMaxPullSecrets) {
    return Invalid("spec.imagePullSecrets", absl::StrCat("at most ", kMaxPullSecrets, " entries"));
  }
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    std::string_view name = json::GetString((*list)[i], {"name"});
    if (!names::IsDnsSubdomain(name)) {
      return Invalid(absl::StrCat("spec.imagePullSecrets[", i, "].name"),
                     absl::StrCat("\"", ToAbsl(name.substr(0, 253)), "\" is not a Secret name"));
    }
    r.image_pull_secrets.emplace_back(name);
  }
  return absl::OkStatus();
}

absl::Status ParseVolumes(const rapidjson::Value& spec, WorkspaceRequest& r) {
  const rapidjson::Value* list = json::Find(spec, {"volumes"});
  if (list == nullptr) return absl::OkStatus();
  if (!list->IsArray() || list->Size() > kMaxVolumes) {
    return Invalid("spec.volumes", absl::StrCat("at most ", kMaxVolumes, " entries"));
  }
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const std::string field = absl::StrCat("spec.volumes[", i, "]");
    Mount m{Str(json::GetString((*list)[i], {"claimName"})),
            Str(json::GetString((*list)[i], {"mountPath"})),
            json::GetBool((*list)[i], {"readOnly"})};
    if (!names::IsDnsSubdomain(m.claim)) {
      return Invalid(field + ".claimName",
                     absl::StrCat("\"", m.claim.substr(0, 253), "\" is not a claim name"));
    }
    if (m.path.size() < 2 || m.path.front() != '/' || m.path.size() > 256 ||
        absl::StrContains(m.path, "..")) {
      return Invalid(field + ".mountPath", "must be an absolute path such as /data");
    }
    r.volumes.push_back(std::move(m));
  }
  return absl::OkStatus();
}

rapidjson::Value ConditionValue(kube::Builder& b, const WorkspaceCondition& c) {
  rapidjson::Value v = b.Object({{"type", b.Str(c.type)}, {"status", b.Str(c.status)}});
  if (!c.reason.empty()) b.Add(v, "reason", b.Str(c.reason));
  if (!c.message.empty()) b.Add(v, "message", b.Str(c.message));
  if (!c.last_transition_time.empty()) {
    b.Add(v, "lastTransitionTime", b.Str(c.last_transition_time));
  }
  return v;
}

}  // namespace

const kube::Resource& WorkspaceResource() {
  static const kube::Resource* r =
      new kube::Resource{"labkube.io", "v1alpha1", "workspaces", kWorkspaceKind, true};
  return *r;
}

absl::StatusOr<WorkspaceRequest> ParseWorkspaceSpec(const rapidjson::Value& workspace) {
  const rapidjson::Value* spec = json::Find(workspace, {"spec"});
  if (spec == nullptr || !spec->IsObject()) return Invalid("spec", "is required");
  WorkspaceRequest r;
  r.kind = KindFromName(json::GetString(*spec, {"kind"}));
  if (r.kind == gw::WORKSPACE_KIND_UNSPECIFIED) {
    return Invalid("spec.kind", "must be jupyterlab or codeserver");
  }
  r.group = Str(json::GetString(*spec, {"machine", "group"}));
  r.type = Str(json::GetString(*spec, {"machine", "type"}));
  if (!r.group.empty()) LK_RETURN_IF_ERROR(names::CheckDnsLabel("spec.machine.group", r.group));
  LK_RETURN_IF_ERROR(names::CheckDnsLabel("spec.machine.type", r.type));
  r.image = Str(json::GetString(*spec, {"image"}));
  LK_RETURN_IF_ERROR(CheckImage(r.image));
  LK_RETURN_IF_ERROR(ParsePullSecrets(*spec, r));
  LK_RETURN_IF_ERROR(ParseVolumes(*spec, r));
  return r;
}

absl::StatusOr<rapidjson::Document> BuildWorkspace(std::string_view ns, std::string_view name,
                                                   std::string_view member,
                                                   const WorkspaceRequest& r) {
  kube::Builder b;
  kube::ObjectMeta meta;
  meta.name = Str(name);
  meta.namespace_ = Str(ns);
  meta.labels = WorkspaceLabels(member, name);
  rapidjson::Value machine = b.Object({{"type", b.Str(r.type)}});
  if (!r.group.empty()) b.Add(machine, "group", b.Str(r.group));
  rapidjson::Value spec =
      b.Object({{"kind", b.Str(KindName(r.kind))}, {"machine", std::move(machine)}});
  if (!r.image.empty()) b.Add(spec, "image", b.Str(r.image));
  rapidjson::Value pull = b.Array({});
  for (const std::string& s : r.image_pull_secrets) b.Push(pull, b.Object({{"name", b.Str(s)}}));
  b.Add(spec, "imagePullSecrets", std::move(pull));
  rapidjson::Value volumes = b.Array({});
  for (const Mount& m : r.volumes) {
    b.Push(volumes, b.Object({{"claimName", b.Str(m.claim)},
                              {"mountPath", b.Str(m.path)},
                              {"readOnly", b.Bool(m.read_only)}}));
  }
  b.Add(spec, "volumes", std::move(volumes));
  return b.Finish(b.Manifest(kWorkspaceApiVersion, kWorkspaceKind, meta, {{"spec", std::move(spec)}}));
}

WorkspaceStatus ReadStatus(const rapidjson::Value& workspace) {
  WorkspaceStatus s;
  const rapidjson::Value* st = json::Find(workspace, {"status"});
  if (st == nullptr || !st->IsObject()) return s;
  s.observed_generation = json::GetInt(*st, {"observedGeneration"});
  s.phase = PhaseFromName(json::GetString(*st, {"phase"}));
  s.reason = Str(json::GetString(*st, {"reason"}));
  s.message = Str(json::GetString(*st, {"message"}));
  s.node = Str(json::GetString(*st, {"node"}));
  s.machine_group = Str(json::GetString(*st, {"machineGroup"}));
  s.gpu_model = Str(json::GetString(*st, {"gpuModel"}));
  s.gpu_count = static_cast<int32_t>(json::GetInt(*st, {"gpuCount"}));
  s.url = Str(json::GetString(*st, {"url"}));
  s.queue_position = static_cast<int32_t>(json::GetInt(*st, {"queue", "position"}));
  s.queue_length = static_cast<int32_t>(json::GetInt(*st, {"queue", "length"}));
  s.estimated_start = Str(json::GetString(*st, {"queue", "estimatedStart"}));
  s.estimate_note = Str(json::GetString(*st, {"queue", "estimateNote"}));
  const rapidjson::Value* conditions = json::Find(*st, {"conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return s;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    s.conditions.push_back({Str(json::GetString(c, {"type"})), Str(json::GetString(c, {"status"})),
                            Str(json::GetString(c, {"reason"})),
                            Str(json::GetString(c, {"message"})),
                            Str(json::GetString(c, {"lastTransitionTime"}))});
  }
  return s;
}

absl::StatusOr<std::string> StatusPatch(const WorkspaceStatus& s) {
  kube::Builder b;
  rapidjson::Value conditions = b.Array({});
  for (const WorkspaceCondition& c : s.conditions) b.Push(conditions, ConditionValue(b, c));
  // Every field is written, empty ones as "" / 0, so a merge patch clears what no longer holds.
  rapidjson::Value status = b.Object({{"observedGeneration", b.Int(s.observed_generation)},
                                      {"phase", b.Str(PhaseName(s.phase))},
                                      {"reason", b.Str(s.reason)},
                                      {"message", b.Str(s.message)},
                                      {"node", b.Str(s.node)},
                                      {"machineGroup", b.Str(s.machine_group)},
                                      {"gpuModel", b.Str(s.gpu_model)},
                                      {"gpuCount", b.Int(s.gpu_count)},
                                      {"url", b.Str(s.url)},
                                      {"conditions", std::move(conditions)}});
  if (s.queue_position > 0) {
    rapidjson::Value queue = b.Object({{"position", b.Int(s.queue_position)},
                                       {"length", b.Int(s.queue_length)},
                                       {"estimateNote", b.Str(s.estimate_note)}});
    // null (not ""): the schema wants a date-time, and a merge patch removes an old one.
    b.Add(queue, "estimatedStart",
          s.estimated_start.empty() ? b.Null() : b.Str(s.estimated_start));
    b.Add(status, "queue", std::move(queue));
  } else {
    b.Add(status, "queue", b.Null());
  }
  LK_ASSIGN_OR_RETURN(rapidjson::Document doc, b.Finish(b.Object({{"status", std::move(status)}})));
  return json::ToString(doc);
}

std::string_view PhaseName(gw::Phase phase) {
  switch (phase) {
    case gw::PHASE_WAITING:
      return "Waiting";
    case gw::PHASE_STARTING:
      return "Starting";
    case gw::PHASE_RUNNING:
      return "Running";
    case gw::PHASE_FAILED:
      return "Failed";
    case gw::PHASE_STOPPING:
      return "Stopping";
    default:
      return "";
  }
}

gw::Phase PhaseFromName(std::string_view name) {
  for (gw::Phase p : {gw::PHASE_WAITING, gw::PHASE_STARTING, gw::PHASE_RUNNING, gw::PHASE_FAILED,
                      gw::PHASE_STOPPING}) {
    if (PhaseName(p) == name) return p;
  }
  return gw::PHASE_UNSPECIFIED;
}

gw::Workspace WorkspaceView(const rapidjson::Value& o, std::string_view member, absl::Time now) {
  gw::Workspace w;
  w.set_name(Str(json::GetString(o, {"metadata", "name"})));
  w.set_member(Str(member));
  w.set_namespace_(Str(json::GetString(o, {"metadata", "namespace"})));
  w.set_kind(KindFromName(json::GetString(o, {"spec", "kind"})));
  w.set_machine_type(Str(json::GetString(o, {"spec", "machine", "type"})));
  w.set_image(Str(json::GetString(o, {"spec", "image"})));
  if (const rapidjson::Value* v = json::Find(o, {"spec", "volumes"}); v != nullptr && v->IsArray()) {
    for (const rapidjson::Value& m : v->GetArray()) {
      w.add_volumes(Str(json::GetString(m, {"claimName"})));
    }
  }
  WorkspaceStatus s = ReadStatus(o);
  w.set_machine_group(!s.machine_group.empty()
                          ? s.machine_group
                          : Str(json::GetString(o, {"spec", "machine", "group"})));
  if (json::Find(o, {"metadata", "deletionTimestamp"}) != nullptr) {
    s.phase = gw::PHASE_STOPPING;
    s.reason = "Stopping";
    s.message = "the workspace is being removed";
  } else if (s.phase == gw::PHASE_UNSPECIFIED) {
    s.phase = gw::PHASE_STARTING;
    s.reason = "Pending";
    s.message = "waiting for the workspace controller";
  }
  w.set_phase(s.phase);
  w.set_reason(s.reason);
  w.set_message(s.message);
  w.set_node(s.node);
  w.set_gpu_model(s.gpu_model);
  w.set_gpu_count(s.gpu_count);
  w.set_url(s.url);
  if (s.phase == gw::PHASE_WAITING && s.queue_position > 0) {
    w.set_queue_position(s.queue_position);
    w.set_queue_length(s.queue_length);
    w.set_estimate_note(s.estimate_note);
    if (std::optional<absl::Time> at = ParseTime(s.estimated_start)) {
      w.mutable_estimated_start()->set_seconds(absl::ToUnixSeconds(*at));
    }
  }
  if (std::optional<absl::Time> created =
          ParseTime(json::GetString(o, {"metadata", "creationTimestamp"}))) {
    w.mutable_created()->set_seconds(absl::ToUnixSeconds(*created));
    w.set_age_seconds(std::max<int64_t>(0, absl::ToInt64Seconds(now - *created)));
  }
  return w;
}

}  // namespace labkube::gateway
