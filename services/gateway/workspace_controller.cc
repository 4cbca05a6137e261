#include "services/gateway/workspace_controller.h"

#include <unistd.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/log.h"
#include "lib/status_macros.h"
#include "services/gateway/names.h"
#include "services/gateway/queue_view.h"
#include "services/gateway/workspace_status.h"

namespace labkube::gateway {

namespace json = kube::json;
namespace res = kube::resources;

struct WorkspaceController::Desired {
  std::string ns;
  std::string name;
  std::string uid;
  int64_t generation = 0;
  WorkspaceSpec spec;
  std::optional<gw::MachineType> type;  // when the scheduler's list has it
  // Set when the Workspace cannot be provisioned as it is: the phase, reason and message.
  gw::Phase phase = gw::PHASE_UNSPECIFIED;
  std::string reason;
  std::string message;
  bool retry = false;  // the reason may pass by itself (the scheduler was unreachable)
};

namespace {

std::string Str(std::string_view s) { return std::string(s); }

std::string ChildSelector() {
  return Selector({{contract::kManagedByLabel, contract::kManagedByGateway},
                   {contract::kComponentLabel, "workspace"}});
}

bool ControlledBy(const rapidjson::Value& object, std::string_view uid) {
  const rapidjson::Value* refs = json::Find(object, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->IsArray()) return false;
  for (const rapidjson::Value& r : refs->GetArray()) {
    if (json::GetString(r, {"uid"}) == uid && json::GetBool(r, {"controller"})) return true;
  }
  return false;
}

absl::Status NotOurs(std::string_view kind, std::string_view ns, std::string_view name,
                     std::string_view workspace) {
  return absl::FailedPreconditionError(absl::StrCat(
      ToAbsl(kind), " ", ToAbsl(name), " exists and does not belong to workspace ",
      ToAbsl(workspace), ": delete it (kubectl -n ", ToAbsl(ns), " delete ", ToAbsl(kind), " ",
      ToAbsl(name), ") or use another workspace name"));
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

WorkspaceCondition Condition(std::string type, bool ok, std::string reason, std::string message) {
  return {std::move(type), ok ? "True" : "False", std::move(reason), std::move(message), ""};
}

}  // namespace

WorkspaceController::WorkspaceController(kube::Client& client, Availability& availability,
                                         Clock& clock, std::function<bool()> is_leader,
                                         WorkspaceOptions workspaces,
                                         WorkspaceControllerOptions options)
    : client_(client),
      availability_(availability),
      clock_(clock),
      is_leader_(std::move(is_leader)),
      workspaces_options_(std::move(workspaces)),
      options_(std::move(options)),
      workspaces_(client, WorkspaceResource(), {}, clock),
      deployments_(client, res::Deployments(), {.label_selector = ChildSelector()}, clock),
      services_(client, res::Services(), {.label_selector = ChildSelector()}, clock),
      ingresses_(client, res::Ingresses(), {.label_selector = ChildSelector()}, clock),
      pods_(client, res::Pods(), {.label_selector = ChildSelector()}, clock) {
  auto enqueue = [this](const kube::ObjectPtr& w) { Enqueue(kube::Informer::KeyOf(*w)); };
  workspaces_.AddEventHandlers(
      {enqueue, [=](const kube::ObjectPtr&, const kube::ObjectPtr& w) { enqueue(w); }, enqueue});
  for (kube::Informer* children : {&deployments_, &services_, &ingresses_, &pods_}) {
    WatchChildren(*children);
  }
}

WorkspaceController::~WorkspaceController() { Stop(); }

void WorkspaceController::WatchChildren(kube::Informer& informer) {
  auto owner = [this](const kube::ObjectPtr& child) { EnqueueOwner(child); };
  informer.AddEventHandlers(
      {owner, [=](const kube::ObjectPtr&, const kube::ObjectPtr& c) { owner(c); }, owner});
}

void WorkspaceController::EnqueueOwner(const kube::ObjectPtr& child) {
  std::string_view ws = json::GetString(*child, {"metadata", "labels", contract::kWorkspaceLabel});
  if (ws.empty()) return;
  Enqueue(absl::StrCat(ToAbsl(json::GetString(*child, {"metadata", "namespace"})), "/", ToAbsl(ws)));
}

void WorkspaceController::Enqueue(const std::string& key) {
  absl::MutexLock lock(&mu_);
  queue_.insert(key);
}

void WorkspaceController::Start() {
  for (kube::Informer* i : {&workspaces_, &deployments_, &services_, &ingresses_, &pods_}) {
    i->Start();
  }
  thread_ = std::thread([this] { Loop(); });
}

bool WorkspaceController::HasSynced() {
  return workspaces_.HasSynced() && deployments_.HasSynced() && services_.HasSynced() &&
         ingresses_.HasSynced() && pods_.HasSynced();
}

bool WorkspaceController::WaitForSync(absl::Time deadline) {
  for (kube::Informer* i : {&workspaces_, &deployments_, &services_, &ingresses_, &pods_}) {
    if (!i->WaitForSync(deadline)) return false;
  }
  return true;
}

void WorkspaceController::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  for (kube::Informer* i : {&pods_, &ingresses_, &services_, &deployments_, &workspaces_}) {
    i->Stop();
  }
}

bool WorkspaceController::Stopping() {
  absl::MutexLock lock(&mu_);
  return stop_;
}

std::set<std::string> WorkspaceController::Take(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::set<std::string> keys;
  if (!stop_) keys.swap(queue_);
  return keys;
}

std::set<std::string> WorkspaceController::InLine() {
  std::set<std::string> keys;
  for (const kube::ObjectPtr& w : workspaces_.List()) {
    WorkspaceStatus st = ReadStatus(*w);
    if (st.queue_position > 0 || st.reason == "InLine") keys.insert(kube::Informer::KeyOf(*w));
  }
  return keys;
}

void WorkspaceController::Loop() {
  bool leading = false;
  absl::Time next_resync = absl::InfinitePast();
  uint64_t availability_seen = 0;
  while (!Stopping()) {
    std::set<std::string> keys = Take(absl::Milliseconds(200));
    if (!HasSynced() || !is_leader_()) {
      leading = false;  // what came meanwhile is covered by the pass over all on leading
      continue;
    }
    // Places in line move with every change of usage: refresh the waiting workspaces.
    if (uint64_t v = availability_.WaitNewer(availability_seen, absl::ZeroDuration()).version;
        v != availability_seen) {
      availability_seen = v;
      keys.merge(InLine());
    }
    lines_.clear();
    const absl::Time now = clock_.Now();
    if (!leading || now >= next_resync) {
      for (const kube::ObjectPtr& w : workspaces_.List()) keys.insert(kube::Informer::KeyOf(*w));
      next_resync = now + options_.resync;
    }
    leading = true;
    for (auto it = retry_.begin(); it != retry_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      keys.insert(it->first);
      it = retry_.erase(it);
    }
    for (const std::string& key : keys) {
      if (Stopping()) return;
      const size_t slash = key.find('/');
      absl::Status s = ReconcileOne(key.substr(0, slash), key.substr(slash + 1));
      if (s.ok()) continue;
      retry_[key] = clock_.Now() + options_.retry_after;
      LogEvent(LogLevel::kWarn, "workspace.reconcile_failed",
               {{"workspace", key}, {"error", std::string(s.message())}});
    }
  }
}

WorkspaceController::Desired WorkspaceController::Resolve(const rapidjson::Value& ws) {
  Desired d;
  d.ns = Str(json::GetString(ws, {"metadata", "namespace"}));
  d.name = Str(json::GetString(ws, {"metadata", "name"}));
  d.uid = Str(json::GetString(ws, {"metadata", "uid"}));
  d.generation = json::GetInt(ws, {"metadata", "generation"});
  auto fail = [&](std::string reason, std::string message) {
    d.phase = gw::PHASE_FAILED;
    d.reason = std::move(reason);
    d.message = std::move(message);
    return d;
  };
  const std::string& prefix = options_.namespace_prefix;
  if (!absl::StartsWith(d.ns, prefix) || d.ns.size() == prefix.size()) {
    return fail("NotAMemberNamespace", absl::StrCat("workspaces run only in member namespaces (",
                                                    prefix, "<member>)"));
  }
  absl::StatusOr<WorkspaceRequest> r = ParseWorkspaceSpec(ws);
  if (!r.ok()) return fail("InvalidSpec", std::string(r.status().message()));
  if (absl::StatusOr<AvailabilitySnapshot> a = availability_.Current(); a.ok()) {
    absl::StatusOr<gw::MachineType> t = ResolveMachineType(
        a->types, r->group.empty() ? r->type : absl::StrCat(r->group, "/", r->type));
    if (!t.ok()) return fail("UnknownMachineType", std::string(t.status().message()));
    d.type = *t;
  } else if (r->group.empty()) {
    fail("SchedulerUnavailable", absl::StrCat("cannot find the group of machine type ", r->type,
                                              ": ", a.status().message()));
    d.phase = gw::PHASE_WAITING;
    d.retry = true;
    return d;
  }
  WorkspaceSpec& s = d.spec;
  s.member = d.ns.substr(prefix.size());
  s.ns = d.ns;
  s.name = d.name;
  s.kind = r->kind;
  s.group = d.type ? d.type->group() : r->group;
  s.type = r->type;
  s.image = r->image.empty() ? DefaultImage(workspaces_options_, r->kind) : r->image;
  s.image_pull_secrets = std::move(r->image_pull_secrets);
  for (const Mount& m : r->volumes) {
    if (!m.read_only) s.data_path = m.path;
  }
  s.mounts = std::move(r->volumes);
  s.settings_config_map = options_.settings_config_map;
  Route(workspaces_options_, s);
  return d;
}

absl::Status WorkspaceController::Reconcile(const std::string& ns, const std::string& name) {
  lines_.clear();
  return ReconcileOne(ns, name);
}

absl::Status WorkspaceController::ReconcileOne(const std::string& ns, const std::string& name) {
  kube::ObjectPtr ws = workspaces_.Get(ns, name);
  if (ws == nullptr || json::Find(*ws, {"metadata", "deletionTimestamp"}) != nullptr) {
    return absl::OkStatus();  // its children go with it (garbage collection)
  }
  Desired d = Resolve(*ws);
  WorkspaceStatus next;
  absl::Status provisioned = absl::OkStatus();
  if (d.reason.empty()) {
    kube::ObjectPtr deployment;
    provisioned = Provision(d, deployment);
    next = Observe(d, deployment);
  } else {
    next.phase = d.phase;
    next.reason = d.reason;
    next.message = d.message;
  }
  next.observed_generation = d.generation;
  next.conditions.push_back(
      Condition(contract::kWorkspaceProvisionedCondition, d.reason.empty() && provisioned.ok(),
                !d.reason.empty() ? d.reason : provisioned.ok() ? "Provisioned" : "Failed",
                !d.reason.empty() ? d.message : std::string(provisioned.message())));
  next.conditions.push_back(Condition(contract::kWorkspaceReadyCondition,
                                      next.phase == gw::PHASE_RUNNING,
                                      next.phase == gw::PHASE_RUNNING ? "Running" : next.reason,
                                      next.phase == gw::PHASE_RUNNING ? "" : next.message));
  LK_RETURN_IF_ERROR(WriteStatus(*ws, std::move(next)));
  if (d.retry) return absl::UnavailableError(d.message);
  return provisioned;
}

absl::Status WorkspaceController::Provision(const Desired& d, kube::ObjectPtr& deployment) {
  absl::Status first = EnsureDeployment(d, deployment);
  const Owner owner{d.name, d.uid};
  absl::StatusOr<rapidjson::Document> service = BuildService(d.spec, owner);
  absl::StatusOr<rapidjson::Document> ingress = BuildIngress(d.spec, owner);
  for (auto [resource, cache, object] :
       {std::tuple{&res::Services(), &services_, &service},
        std::tuple{&res::Ingresses(), &ingresses_, &ingress}}) {
    absl::Status s = object->ok() ? EnsureChild(*resource, cache, d, **object) : object->status();
    if (first.ok()) first = s;
  }
  // The token is made once, with its Secret (never rewritten: members keep their token).
  absl::StatusOr<rapidjson::Document> secret = BuildSecret(d.spec, owner, NewAccessToken());
  absl::Status s = secret.ok() ? EnsureChild(res::Secrets(), nullptr, d, *secret) : secret.status();
  return first.ok() ? s : first;
}

absl::Status WorkspaceController::EnsureChild(const kube::Resource& resource,
                                              kube::Informer* cache, const Desired& d,
                                              const rapidjson::Document& object) {
  const std::string name = Str(json::GetString(object, {"metadata", "name"}));
  kube::ObjectPtr have = cache != nullptr ? cache->Get(d.ns, name) : nullptr;
  if (cache == nullptr) {
    absl::StatusOr<rapidjson::Document> got = client_.Get(resource, d.ns, name);
    if (got.ok()) have = std::make_shared<const rapidjson::Document>(std::move(*got));
    if (!got.ok() && !absl::IsNotFound(got.status())) return got.status();
  }
  if (have != nullptr) {
    return ControlledBy(*have, d.uid) ? absl::OkStatus() : NotOurs(resource.kind, d.ns, name, d.name);
  }
  absl::StatusOr<rapidjson::Document> created = client_.Create(resource, d.ns, object);
  if (absl::IsAlreadyExists(created.status())) {  // our cache is behind, or it is not labelled
    absl::StatusOr<rapidjson::Document> got = client_.Get(resource, d.ns, name);
    if (!got.ok() || ControlledBy(*got, d.uid)) return got.status();
    return NotOurs(resource.kind, d.ns, name, d.name);
  }
  if (!created.ok()) return KubeError(created.status(), "create " + resource.kind + " " + name, d.ns);
  LogEvent(LogLevel::kInfo, "workspace.object_created",
           {{"workspace", absl::StrCat(d.ns, "/", d.name)}, {"object", resource.kind + "/" + name}});
  return absl::OkStatus();
}

absl::Status WorkspaceController::EnsureDeployment(const Desired& d, kube::ObjectPtr& deployment) {
  LK_ASSIGN_OR_RETURN(rapidjson::Document want, BuildDeployment(d.spec, Owner{d.name, d.uid}));
  const std::string name = DeploymentName(d.name);
  kube::ObjectPtr have = deployments_.Get(d.ns, name);
  if (have == nullptr) {
    LK_RETURN_IF_ERROR(EnsureChild(res::Deployments(), &deployments_, d, want));
    deployment = std::make_shared<const rapidjson::Document>(std::move(want));
    return absl::OkStatus();
  }
  if (!ControlledBy(*have, d.uid)) return NotOurs("Deployment", d.ns, name, d.name);
  deployment = have;
  const json::Path digest = {"metadata", "annotations", contract::kWorkspaceSpecAnnotation};
  if (json::GetString(*have, digest) == json::GetString(want, digest)) return absl::OkStatus();
  json::SetString(want, {"metadata", "resourceVersion"},
                  json::GetString(*have, {"metadata", "resourceVersion"}));
  absl::StatusOr<rapidjson::Document> updated =
      client_.Update(res::Deployments(), d.ns, name, want);
  // Conflict: our cache was behind (e.g. our own last write); its update event brings us back.
  if (absl::IsAborted(updated.status())) return absl::OkStatus();
  if (!updated.ok()) return KubeError(updated.status(), "update Deployment " + name, d.ns);
  LogEvent(LogLevel::kInfo, "workspace.updated", {{"workspace", absl::StrCat(d.ns, "/", d.name)}});
  deployment = std::make_shared<const rapidjson::Document>(std::move(*updated));
  return absl::OkStatus();
}

WorkspaceStatus WorkspaceController::Observe(const Desired& d, const kube::ObjectPtr& deployment) {
  WorkspaceStatus s;
  s.url = d.spec.url;
  s.machine_group = d.spec.group;
  if (d.type && d.type->has_gpu()) {
    s.gpu_model = d.type->gpu().model();
    s.gpu_count = d.type->gpu().count();
  }
  if (deployment == nullptr) {
    s.phase = gw::PHASE_STARTING;
    s.reason = "Creating";
    s.message = "creating the workspace's objects";
    return s;
  }
  std::vector<const rapidjson::Value*> pods;
  std::vector<kube::ObjectPtr> held = pods_.ByIndex(
      kube::Informer::kLabelIndex, absl::StrCat(contract::kWorkspaceLabel, "=", d.name));
  for (const kube::ObjectPtr& p : held) {
    if (json::GetString(*p, {"metadata", "namespace"}) == d.ns) pods.push_back(p.get());
  }
  PhaseInfo info = WorkspacePhase(*deployment, pods, {});
  if (info.phase != gw::PHASE_RUNNING) {  // events explain why not (not fatal when unreadable)
    absl::StatusOr<kube::ObjectList> events = client_.List(res::Events(), d.ns, {});
    std::vector<const rapidjson::Value*> list;
    if (events.ok()) {
      for (const rapidjson::Value& e : events->items().GetArray()) list.push_back(&e);
      info = WorkspacePhase(*deployment, pods, list);
    }
  }
  s.phase = info.phase;
  s.reason = std::move(info.reason);
  s.message = std::move(info.message);
  s.node = std::move(info.node);
  if (!info.queued_pod.empty()) AddPlaceInLine(d, info.queued_pod, s);
  return s;
}

void WorkspaceController::AddPlaceInLine(const Desired& d, const std::string& pod,
                                         WorkspaceStatus& s) {
  if (!d.type) return;
  const std::string key = absl::StrCat(d.type->group(), "/", d.type->name());
  auto it = lines_.find(key);
  if (it == lines_.end()) it = lines_.emplace(key, availability_.Queue(*d.type)).first;
  if (!it->second.ok()) return;  // the generic message stays; the next change or resync retries
  const gw::Queue& line = *it->second;
  const gw::QueueEntry* e = FindEntry(line, d.ns, pod);
  if (e == nullptr) return;  // not yet (or no longer) in the scheduler's line
  s.queue_position = e->position();
  s.queue_length = line.entries_size();
  s.estimate_note = line.estimate_note();
  if (e->has_estimated_start() && e->estimated_start().seconds() > 0) {
    s.estimated_start = Rfc3339(absl::FromUnixSeconds(e->estimated_start().seconds()));
  }
  s.message = InLineMessage(d.type->name(), *e, line.entries_size());
}

absl::Status WorkspaceController::WriteStatus(const rapidjson::Value& ws, WorkspaceStatus next) {
  const WorkspaceStatus old = ReadStatus(ws);
  for (WorkspaceCondition& c : next.conditions) {
    c.last_transition_time = Rfc3339(clock_.Now());
    for (const WorkspaceCondition& o : old.conditions) {
      if (o.type == c.type && o.status == c.status) c.last_transition_time = o.last_transition_time;
    }
  }
  if (next == old) return absl::OkStatus();
  LK_ASSIGN_OR_RETURN(std::string patch, StatusPatch(next));
  kube::PatchOptions po;
  po.subresource = "status";
  const std::string ns = Str(json::GetString(ws, {"metadata", "namespace"}));
  const std::string name = Str(json::GetString(ws, {"metadata", "name"}));
  absl::StatusOr<rapidjson::Document> r =
      client_.Patch(WorkspaceResource(), ns, name, kube::PatchType::kMergePatch, patch, po);
  if (absl::IsNotFound(r.status())) return absl::OkStatus();  // deleted meanwhile
  if (!r.ok()) return KubeError(r.status(), "write the status of workspace " + name, ns);
  if (next.phase != old.phase) {
    LogEvent(LogLevel::kInfo, "workspace.phase",
             {{"workspace", absl::StrCat(ns, "/", name)}, {"phase", Str(PhaseName(next.phase))}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ElectedWorkspaceController>> ElectedWorkspaceController::Start(
    kube::Client& client, Availability& availability, Clock& clock, WorkspaceOptions workspaces,
    WorkspaceControllerOptions options) {
  if (!options.enabled) return nullptr;
  kube::LeaderElectionOptions le;
  le.ns = options.lease_namespace;
  le.name = options.lease_name;
  le.identity = options.identity;
  if (le.identity.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    le.identity = absl::StrCat(host, "-", getpid());
  }
  le.on_started_leading = [id = le.identity] {
    LogEvent(LogLevel::kInfo, "workspace.controller_leading", {{"identity", id}});
  };
  auto c = std::unique_ptr<ElectedWorkspaceController>(new ElectedWorkspaceController());
  LK_ASSIGN_OR_RETURN(c->elector_, kube::LeaderElector::Create(client, std::move(le), clock));
  kube::LeaderElector* elector = c->elector_.get();
  c->controller_ = std::make_unique<WorkspaceController>(
      client, availability, clock, [elector] { return elector->IsLeader(); },
      std::move(workspaces), std::move(options));
  c->controller_->Start();
  c->elector_->Run();
  return c;
}

ElectedWorkspaceController::~ElectedWorkspaceController() { Stop(); }

void ElectedWorkspaceController::Stop() {
  if (controller_) controller_->Stop();
  if (elector_) elector_->Stop();
}

}  // namespace labkube::gateway
