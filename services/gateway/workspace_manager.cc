#include "services/gateway/workspace_manager.h"

#include <future>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/status_macros.h"
#include "services/gateway/names.h"
#include "services/gateway/workspace_spec.h"
#include "services/gateway/workspace_status.h"

namespace labkube::gateway {

using contract::kComponentLabel;
using contract::kGroupLabel;
using contract::kManagedByGateway;
using contract::kManagedByLabel;
using contract::kTypeLabel;
using contract::kUrlAnnotation;
using contract::kWorkspaceKindLabel;
using contract::kWorkspaceLabel;
using names::CheckDnsLabel;
using names::CheckLength;
using names::IsDnsSubdomain;

namespace json = kube::json;
namespace res = kube::resources;

struct WorkspaceManager::Snapshot {
  std::vector<rapidjson::Document> deployments;
  std::vector<rapidjson::Document> pods;
  std::vector<rapidjson::Document> events;
  std::map<std::string, std::string> tokens;  // workspace -> access token
  std::vector<gw::MachineType> types;
};

namespace {

constexpr size_t kMaxPullSecrets = 8;

std::string CacheKey(const Target& t, std::string_view name) {
  return absl::StrCat(t.ns, "/", ToAbsl(name));
}

// The pods of workspace `name` among a namespace's workspace pods.
std::vector<const rapidjson::Value*> PodsOf(std::string_view name,
                                            const std::vector<rapidjson::Document>& pods) {
  std::vector<const rapidjson::Value*> mine;
  for (const rapidjson::Document& p : pods) {
    if (json::GetString(p, {"metadata", "labels", kWorkspaceLabel}) == name) mine.push_back(&p);
  }
  return mine;
}

// Events only explain workspaces that are not running: skip reading them when all run (the
// phase without events, by the same rules Describe uses).
bool NeedsEvents(const std::vector<rapidjson::Document>& deployments,
                 const std::vector<rapidjson::Document>& pods) {
  for (const rapidjson::Document& d : deployments) {
    std::string_view name = json::GetString(d, {"metadata", "labels", kWorkspaceLabel});
    if (WorkspacePhase(d, PodsOf(name, pods), {}).phase != gw::PHASE_RUNNING) return true;
  }
  return false;
}

std::string Str(std::string_view s) { return std::string(s); }

absl::Status NoSuchWorkspace(std::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("name: workspace \"", ToAbsl(name), "\" not found (see `labctl ide list`)"));
}

std::vector<rapidjson::Document> Items(kube::ObjectList& list) {
  std::vector<rapidjson::Document> out;
  for (const rapidjson::Value& item : list.items().GetArray()) out.push_back(json::Copy(item));
  return out;
}

std::string WithSlashes(std::string path) {
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  if (path.back() != '/') path.push_back('/');
  return path;
}

bool IsOurs(const rapidjson::Value& d) {
  return json::GetString(d, {"metadata", "labels", kManagedByLabel}) == kManagedByGateway &&
         json::GetString(d, {"metadata", "labels", kComponentLabel}) == "workspace";
}

// Machine type, image and volumes from the Deployment's pod template.
void FromTemplate(const rapidjson::Value& d, gw::Workspace& w) {
  const rapidjson::Value* tmpl = json::Find(d, {"spec", "template"});
  if (tmpl == nullptr) return;
  w.set_machine_group(Str(json::GetString(*tmpl, {"metadata", "labels", kGroupLabel})));
  w.set_machine_type(Str(json::GetString(*tmpl, {"metadata", "labels", kTypeLabel})));
  const rapidjson::Value* containers = json::Find(*tmpl, {"spec", "containers"});
  if (containers != nullptr && containers->IsArray() && !containers->Empty()) {
    w.set_image(Str(json::GetString((*containers)[0], {"image"})));
  }
  const rapidjson::Value* volumes = json::Find(*tmpl, {"spec", "volumes"});
  if (volumes == nullptr || !volumes->IsArray()) return;
  for (const rapidjson::Value& v : volumes->GetArray()) {
    w.add_volumes(Str(json::GetString(v, {"persistentVolumeClaim", "claimName"})));
  }
}

}  // namespace

WorkspaceManager::WorkspaceManager(kube::Client& client, Availability& availability,
                                   StorageManager& storage, Clock& clock, WorkspaceOptions options)
    : client_(client),
      availability_(availability),
      storage_(storage),
      clock_(clock),
      options_(std::move(options)),
      describe_cache_(clock, options_.describe_cache, [](const gw::Workspace& w) {
        // Settled states only: a starting workspace is read fresh, so progress shows at once.
        return w.phase() == gw::PHASE_RUNNING || w.phase() == gw::PHASE_FAILED;
      }) {}

absl::Status WorkspaceManager::CheckStart(const gw::StartWorkspaceRequest& r) const {
  LK_RETURN_IF_ERROR(CheckDnsLabel("name", r.name(), kMaxWorkspaceNameLength));
  if (r.kind() != gw::WORKSPACE_KIND_JUPYTERLAB && r.kind() != gw::WORKSPACE_KIND_CODESERVER) {
    return absl::InvalidArgumentError("kind: must be jupyterlab or codeserver");
  }
  LK_RETURN_IF_ERROR(CheckLength("image", r.image(), 512));
  for (char c : r.image()) {
    if (c <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("image: \"", r.image(), "\" is not an image reference"));
    }
  }
  if (static_cast<size_t>(r.image_pull_secrets_size()) > kMaxPullSecrets) {
    return absl::InvalidArgumentError(
        absl::StrCat("image_pull_secrets: at most ", kMaxPullSecrets, " entries"));
  }
  for (int i = 0; i < r.image_pull_secrets_size(); ++i) {
    if (!IsDnsSubdomain(r.image_pull_secrets(i))) {
      return absl::InvalidArgumentError(absl::StrCat("image_pull_secrets[", i, "]: \"",
                                                     r.image_pull_secrets(i).substr(0, 253),
                                                     "\" is not a Secret name"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<gw::Workspace> WorkspaceManager::Start(const Target& t,
                                                      const gw::StartWorkspaceRequest& r) {
  LK_RETURN_IF_ERROR(CheckStart(r));
  LK_ASSIGN_OR_RETURN(AvailabilitySnapshot avail, availability_.Current());
  LK_ASSIGN_OR_RETURN(gw::MachineType type, ResolveMachineType(avail.types, r.machine_type()));
  const std::string name = DeploymentName(r.name());
  const absl::Status duplicate = absl::AlreadyExistsError(absl::StrCat(
      "name: workspace \"", r.name(), "\" already exists (stop it first, or pick another name)"));
  LK_ASSIGN_OR_RETURN(std::vector<Mount> mounts, storage_.Mounts(t.ns));
  const WorkspaceSpec spec = SpecFor(t, r, type, std::move(mounts));
  LK_ASSIGN_OR_RETURN(const rapidjson::Document deployment, BuildDeployment(spec));
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(res::Deployments(), t.ns, deployment);
  if (absl::IsAlreadyExists(created.status())) return duplicate;
  if (!created.ok()) return KubeError(created.status(), "create Deployment " + name, t.ns);
  const std::string token = NewAccessToken();
  if (absl::Status s = CreateOwned(t, spec, token, *created); !s.ok()) {
    (void)Stop(t, r.name());
    return s;
  }
  LogEvent(LogLevel::kInfo, "workspace.started",
           {{"member", t.member},
            {"workspace", r.name()},
            {"kind", KindName(r.kind())},
            {"machine_type", absl::StrCat(type.group(), "/", type.name())}});
  describe_cache_.Invalidate(CacheKey(t, r.name()));
  // What was just made, without reading it back: its pod does not exist yet.
  Snapshot s;
  s.tokens[r.name()] = token;
  s.types = std::move(avail.types);
  s.deployments.push_back(std::move(*created));
  return Build(t, s.deployments.front(), s);
}

WorkspaceSpec WorkspaceManager::SpecFor(const Target& t, const gw::StartWorkspaceRequest& r,
                                        const gw::MachineType& type,
                                        std::vector<Mount> mounts) const {
  WorkspaceSpec spec;
  spec.member = t.member;
  spec.ns = t.ns;
  spec.name = r.name();
  spec.kind = r.kind();
  spec.group = type.group();
  spec.type = type.name();
  spec.image = !r.image().empty()                          ? r.image()
               : r.kind() == gw::WORKSPACE_KIND_CODESERVER ? options_.codeserver_image
                                                           : options_.jupyterlab_image;
  spec.image_pull_secrets.assign(r.image_pull_secrets().begin(), r.image_pull_secrets().end());
  for (const Mount& m : mounts) {
    if (!m.read_only) spec.data_path = m.path;
  }
  spec.mounts = std::move(mounts);
  spec.settings_config_map = StorageManager::SettingsName();
  spec.host = ExpandPattern(options_.ingress_host, t.member, r.name(), t.ns);
  spec.path = WithSlashes(ExpandPattern(options_.ingress_path, t.member, r.name(), t.ns));
  spec.url = spec.host.empty() ? spec.path
                               : absl::StrCat(options_.url_scheme, "://", spec.host, spec.path);
  spec.ingress_class = options_.ingress_class;
  spec.ingress_tls_secret = options_.ingress_tls_secret;
  return spec;
}

// The Secret, Service and Ingress are independent of each other: created concurrently.
absl::Status WorkspaceManager::CreateOwned(const Target& t, const WorkspaceSpec& spec,
                                           const std::string& token,
                                           const rapidjson::Value& deployment) {
  const Owner owner{Str(json::GetString(deployment, {"metadata", "name"})),
                    Str(json::GetString(deployment, {"metadata", "uid"}))};
  struct Item {
    const kube::Resource* resource;
    rapidjson::Document object;
  };
  LK_ASSIGN_OR_RETURN(rapidjson::Document secret, BuildSecret(spec, owner, token));
  LK_ASSIGN_OR_RETURN(rapidjson::Document service, BuildService(spec, owner));
  LK_ASSIGN_OR_RETURN(rapidjson::Document ingress, BuildIngress(spec, owner));
  Item items[] = {{&res::Secrets(), std::move(secret)},
                  {&res::Services(), std::move(service)},
                  {&res::Ingresses(), std::move(ingress)}};
  std::vector<std::future<absl::Status>> done;
  for (Item& item : items) {
    done.push_back(std::async(std::launch::async, [&, item = &item] {
      return client_.Create(*item->resource, t.ns, item->object).status();
    }));
  }
  absl::Status first;
  for (size_t i = 0; i < done.size(); ++i) {
    absl::Status s = done[i].get();
    if (!s.ok() && first.ok()) {
      first = KubeError(
          s, absl::StrCat("create ", items[i].resource->kind, " for workspace ", spec.name), t.ns);
    }
  }
  return first;
}

absl::StatusOr<std::vector<std::string>> WorkspaceManager::Stop(const Target& t,
                                                                std::string_view name) {
  LK_RETURN_IF_ERROR(CheckDnsLabel("name", name, kMaxWorkspaceNameLength));
  describe_cache_.Invalidate(CacheKey(t, name));
  const std::string object = DeploymentName(name);
  absl::StatusOr<rapidjson::Document> d = client_.Get(res::Deployments(), t.ns, object);
  if (d.ok() && !IsOurs(*d)) return NoSuchWorkspace(name);
  struct Item {
    const kube::Resource* resource;
    std::string name;
  };
  const Item items[] = {{&res::Ingresses(), object},
                        {&res::Services(), object},
                        {&res::Secrets(), TokenSecretName(name)},
                        {&res::Deployments(), object}};
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  std::vector<std::string> deleted;
  for (const Item& item : items) {
    absl::Status s = client_.Delete(*item.resource, t.ns, item.name, background);
    if (absl::IsNotFound(s)) continue;
    if (!s.ok()) {
      return KubeError(s, absl::StrCat("delete ", item.resource->kind, " ", item.name), t.ns);
    }
    deleted.push_back(absl::StrCat(item.resource->kind, "/", item.name));
  }
  if (deleted.empty()) return NoSuchWorkspace(name);
  LogEvent(LogLevel::kInfo, "workspace.stopped", {{"member", t.member}, {"workspace", name}});
  return deleted;
}

absl::StatusOr<WorkspaceManager::Snapshot> WorkspaceManager::Load(const Target& t,
                                                                  std::string_view only) {
  Snapshot s;
  if (!only.empty()) {
    LK_RETURN_IF_ERROR(CheckDnsLabel("name", only, kMaxWorkspaceNameLength));
    absl::StatusOr<rapidjson::Document> d =
        client_.Get(res::Deployments(), t.ns, DeploymentName(only));
    if (absl::IsNotFound(d.status()) || (d.ok() && !IsOurs(*d))) return NoSuchWorkspace(only);
    if (!d.ok()) return KubeError(d.status(), "read the workspace", t.ns);
    s.deployments.push_back(std::move(*d));
  } else {
    kube::ListOptions ours;
    ours.label_selector =
        Selector({{kManagedByLabel, kManagedByGateway}, {kComponentLabel, "workspace"}});
    absl::StatusOr<kube::ObjectList> list = client_.List(res::Deployments(), t.ns, ours);
    if (!list.ok()) return KubeError(list.status(), "list workspaces", t.ns);
    s.deployments = Items(*list);
  }
  if (s.deployments.empty()) return s;
  kube::ListOptions pods;
  pods.label_selector =
      only.empty()
          ? Selector({{kManagedByLabel, kManagedByGateway}, {kComponentLabel, "workspace"}})
          : Selector(WorkspaceLabels(t.member, only));
  absl::StatusOr<kube::ObjectList> pod_list = client_.List(res::Pods(), t.ns, pods);
  if (!pod_list.ok()) return KubeError(pod_list.status(), "list pods", t.ns);
  s.pods = Items(*pod_list);
  if (NeedsEvents(s.deployments, s.pods)) {
    absl::StatusOr<kube::ObjectList> events = client_.List(res::Events(), t.ns, {});
    if (events.ok()) s.events = Items(*events);  // only for explanations: not fatal
  }
  for (const rapidjson::Document& d : s.deployments) {
    std::string ws = Str(json::GetString(d, {"metadata", "labels", kWorkspaceLabel}));
    absl::StatusOr<rapidjson::Document> secret =
        client_.Get(res::Secrets(), t.ns, TokenSecretName(ws));
    if (!secret.ok()) continue;
    std::string token;
    if (std::optional<std::string_view> data = json::FindString(*secret, {"data", "token"})) {
      if (absl::Base64Unescape(ToAbsl(*data), &token)) s.tokens[ws] = token;
    } else {  // written as stringData and not (yet) converted, as by the fake API
      s.tokens[ws] = Str(json::GetString(*secret, {"stringData", "token"}));
    }
  }
  if (absl::StatusOr<AvailabilitySnapshot> a = availability_.Current(); a.ok()) s.types = a->types;
  return s;
}

gw::Workspace WorkspaceManager::Build(const Target& t, const rapidjson::Value& d,
                                      const Snapshot& s) {
  gw::Workspace w;
  const std::string name = Str(json::GetString(d, {"metadata", "labels", kWorkspaceLabel}));
  w.set_name(name);
  w.set_member(t.member);
  w.set_namespace_(t.ns);
  w.set_kind(KindFromName(json::GetString(d, {"metadata", "labels", kWorkspaceKindLabel})));
  FromTemplate(d, w);
  std::vector<const rapidjson::Value*> events;
  for (const rapidjson::Document& e : s.events) events.push_back(&e);
  PhaseInfo phase = WorkspacePhase(d, PodsOf(name, s.pods), events);
  w.set_phase(phase.phase);
  w.set_reason(phase.reason);
  w.set_message(phase.message);
  w.set_node(phase.node);
  for (const gw::MachineType& type : s.types) {
    if (type.group() == w.machine_group() && type.name() == w.machine_type() && type.has_gpu()) {
      w.set_gpu_model(type.gpu().model());
      w.set_gpu_count(type.gpu().count());
    }
  }
  w.set_url(Str(json::GetString(d, {"metadata", "annotations", kUrlAnnotation})));
  if (auto it = s.tokens.find(name); it != s.tokens.end()) w.set_access_token(it->second);
  if (std::optional<absl::Time> created =
          ParseTime(json::GetString(d, {"metadata", "creationTimestamp"}))) {
    w.mutable_created()->set_seconds(absl::ToUnixSeconds(*created));
    w.set_age_seconds(std::max<int64_t>(0, absl::ToInt64Seconds(clock_.Now() - *created)));
  }
  return w;
}

absl::StatusOr<std::vector<gw::Workspace>> WorkspaceManager::List(const Target& t) {
  LK_ASSIGN_OR_RETURN(Snapshot s, Load(t, ""));
  std::vector<gw::Workspace> out;
  for (const rapidjson::Document& d : s.deployments) out.push_back(Build(t, d, s));
  std::sort(out.begin(), out.end(),
            [](const gw::Workspace& a, const gw::Workspace& b) { return a.name() < b.name(); });
  return out;
}

absl::StatusOr<gw::Workspace> WorkspaceManager::Describe(const Target& t, std::string_view name) {
  LK_RETURN_IF_ERROR(CheckDnsLabel("name", name, kMaxWorkspaceNameLength));
  return describe_cache_.GetOrCompute(CacheKey(t, name), [&]() -> absl::StatusOr<gw::Workspace> {
    LK_ASSIGN_OR_RETURN(Snapshot s, Load(t, name));
    return Build(t, s.deployments.front(), s);
  });
}

absl::Status WorkspaceManager::Watch(const Target& t, std::string_view name,
                                     const std::function<bool(const gw::Workspace&)>& on_change,
                                     const std::function<bool()>& stop) {
  std::string last;
  for (bool first = true; !stop(); first = false) {
    absl::StatusOr<gw::Workspace> w = Describe(t, name);
    if (absl::IsNotFound(w.status()) && !first) {
      gw::Workspace gone;
      gone.set_name(std::string(name));
      gone.set_member(t.member);
      gone.set_namespace_(t.ns);
      gone.set_phase(gw::PHASE_STOPPED);
      gone.set_reason("Stopped");
      gone.set_message("the workspace is gone");
      on_change(gone);
      return absl::OkStatus();
    }
    if (!w.ok()) return w.status();
    std::string key =
        absl::StrCat(w->phase(), "\n", w->reason(), "\n", w->message(), "\n", w->node());
    if (first || key != last) {
      if (!on_change(*w)) return absl::OkStatus();
      last = std::move(key);
    }
    clock_.SleepFor(options_.watch_poll);
  }
  return absl::OkStatus();
}

}  // namespace labkube::gateway
