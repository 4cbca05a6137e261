#include "services/gateway/workspace_manager.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/status_macros.h"
#include "services/gateway/names.h"

namespace labkube::gateway {

using names::CheckDnsLabel;
using names::CheckLength;
using names::IsDnsSubdomain;

namespace json = kube::json;
namespace res = kube::resources;

namespace {

constexpr size_t kMaxPullSecrets = 8;

std::string CacheKey(const Target& t, std::string_view name) {
  return absl::StrCat(t.ns, "/", ToAbsl(name));
}

std::string Str(std::string_view s) { return std::string(s); }

absl::Status NoSuchWorkspace(std::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("name: workspace \"", ToAbsl(name), "\" not found (see `labctl ide list`)"));
}

// The token of a workspace's Secret ("" when it has none yet).
std::string TokenOf(const rapidjson::Value& secret) {
  std::string token;
  if (std::optional<std::string_view> data = json::FindString(secret, {"data", "token"})) {
    if (!absl::Base64Unescape(ToAbsl(*data), &token)) token.clear();
    return token;
  }
  return Str(json::GetString(secret, {"stringData", "token"}));  // the fake API keeps stringData
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
  LK_ASSIGN_OR_RETURN(std::vector<Mount> mounts, storage_.Mounts(t.ns));
  WorkspaceRequest wr;
  wr.kind = r.kind();
  wr.group = type.group();
  wr.type = type.name();
  wr.image = r.image().empty() ? DefaultImage(options_, r.kind()) : r.image();
  wr.image_pull_secrets.assign(r.image_pull_secrets().begin(), r.image_pull_secrets().end());
  wr.volumes = std::move(mounts);
  LK_ASSIGN_OR_RETURN(const rapidjson::Document object, BuildWorkspace(t.ns, r.name(), t.member, wr));
  absl::StatusOr<rapidjson::Document> created = client_.Create(WorkspaceResource(), t.ns, object);
  if (absl::IsAlreadyExists(created.status())) {
    return absl::AlreadyExistsError(absl::StrCat(
        "name: workspace \"", r.name(), "\" already exists (stop it first, or pick another name)"));
  }
  if (!created.ok()) return KubeError(created.status(), "create Workspace " + r.name(), t.ns);
  LogEvent(LogLevel::kInfo, "workspace.started",
           {{"member", t.member},
            {"workspace", r.name()},
            {"kind", KindName(r.kind())},
            {"machine_type", absl::StrCat(type.group(), "/", type.name())}});
  describe_cache_.Invalidate(CacheKey(t, r.name()));
  gw::Workspace w = View(t, *created);
  if (w.gpu_model().empty() && type.has_gpu()) {
    w.set_gpu_model(type.gpu().model());
    w.set_gpu_count(type.gpu().count());
  }
  if (w.access_token().empty()) w.set_access_token(WaitForToken(t, r.name()));
  return w;
}

std::string WorkspaceManager::WaitForToken(const Target& t, std::string_view name) {
  const absl::Time deadline = clock_.Now() + options_.token_wait;
  while (true) {
    absl::StatusOr<rapidjson::Document> secret =
        client_.Get(res::Secrets(), t.ns, TokenSecretName(name));
    if (secret.ok()) return TokenOf(*secret);
    if (clock_.Now() >= deadline) return "";
    clock_.SleepFor(absl::Milliseconds(100));
  }
}

gw::Workspace WorkspaceManager::View(const Target& t, const rapidjson::Value& o) {
  gw::Workspace w = WorkspaceView(o, t.member, clock_.Now());
  if (w.url().empty()) {  // not reported yet: where the controller will route it
    WorkspaceSpec spec;
    spec.member = t.member;
    spec.ns = t.ns;
    spec.name = w.name();
    Route(options_, spec);
    w.set_url(spec.url);
  }
  absl::StatusOr<rapidjson::Document> secret =
      client_.Get(res::Secrets(), t.ns, TokenSecretName(w.name()));
  if (secret.ok()) w.set_access_token(TokenOf(*secret));
  return w;
}

absl::StatusOr<std::vector<std::string>> WorkspaceManager::Stop(const Target& t,
                                                                std::string_view name) {
  LK_RETURN_IF_ERROR(CheckDnsLabel("name", name, kMaxWorkspaceNameLength));
  describe_cache_.Invalidate(CacheKey(t, name));
  absl::StatusOr<rapidjson::Document> ws = client_.Get(WorkspaceResource(), t.ns, name);
  if (absl::IsNotFound(ws.status())) return NoSuchWorkspace(name);
  if (!ws.ok()) return KubeError(ws.status(), "read the workspace", t.ns);
  std::vector<std::string> deleted = {absl::StrCat(kWorkspaceKind, "/", ToAbsl(name))};
  const std::string object = DeploymentName(name);
  struct Item {
    const kube::Resource* resource;
    std::string name;
  };
  for (const Item& item : {Item{&res::Deployments(), object}, Item{&res::Services(), object},
                           Item{&res::Ingresses(), object},
                           Item{&res::Secrets(), TokenSecretName(name)}}) {
    if (client_.Get(*item.resource, t.ns, item.name).ok()) {  // these go with it
      deleted.push_back(absl::StrCat(item.resource->kind, "/", item.name));
    }
  }
  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  background.precondition_uid = Str(json::GetString(*ws, {"metadata", "uid"}));
  absl::Status s = client_.Delete(WorkspaceResource(), t.ns, name, background);
  if (absl::IsNotFound(s)) return NoSuchWorkspace(name);
  if (!s.ok()) return KubeError(s, absl::StrCat("delete Workspace ", ToAbsl(name)), t.ns);
  LogEvent(LogLevel::kInfo, "workspace.stopped", {{"member", t.member}, {"workspace", name}});
  return deleted;
}

absl::StatusOr<std::vector<gw::Workspace>> WorkspaceManager::List(const Target& t) {
  absl::StatusOr<kube::ObjectList> list = client_.List(WorkspaceResource(), t.ns, {});
  if (!list.ok()) return KubeError(list.status(), "list workspaces", t.ns);
  std::vector<gw::Workspace> out;
  for (const rapidjson::Value& o : list->items().GetArray()) out.push_back(View(t, o));
  std::sort(out.begin(), out.end(),
            [](const gw::Workspace& a, const gw::Workspace& b) { return a.name() < b.name(); });
  return out;
}

absl::StatusOr<gw::Workspace> WorkspaceManager::Describe(const Target& t, std::string_view name) {
  LK_RETURN_IF_ERROR(CheckDnsLabel("name", name, kMaxWorkspaceNameLength));
  return describe_cache_.GetOrCompute(CacheKey(t, name), [&]() -> absl::StatusOr<gw::Workspace> {
    absl::StatusOr<rapidjson::Document> ws = client_.Get(WorkspaceResource(), t.ns, name);
    if (absl::IsNotFound(ws.status())) return NoSuchWorkspace(name);
    if (!ws.ok()) return KubeError(ws.status(), "read the workspace", t.ns);
    return View(t, *ws);
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
        absl::StrCat(w->phase(), "\n", w->reason(), "\n", w->message(), "\n", w->node(), "\n",
                     w->queue_position(), "/", w->queue_length(), "\n",
                     w->estimated_start().seconds());
    if (first || key != last) {
      if (!on_change(*w)) return absl::OkStatus();
      last = std::move(key);
    }
    clock_.SleepFor(options_.watch_poll);
  }
  return absl::OkStatus();
}

}  // namespace labkube::gateway
