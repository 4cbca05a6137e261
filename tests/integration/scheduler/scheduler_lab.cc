#include "tests/integration/scheduler/scheduler_lab.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using rapidjson::Value;

constexpr char kLease[] = "labkube-scheduler";
constexpr char kGuestNsLabel[] = "labkube-it";
constexpr char kImage[] = "registry.k8s.io/pause:3.10";

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

std::map<std::string, std::string> StringMap(const Value* m) {
  std::map<std::string, std::string> out;
  if (m == nullptr || !m->IsObject()) return out;
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    if (it->value.IsString()) out[std::string(json::View(it->name))] = json::View(it->value);
  }
  return out;
}

Value MapValue(const google::protobuf::Map<std::string, std::string>& m, json::Allocator& a) {
  Value obj(rapidjson::kObjectType);
  for (const auto& [k, v] : m) obj.AddMember(json::String(k, a), json::String(v, a), a);
  return obj;
}

PodInfo ToPodInfo(const Value& pod) {
  PodInfo p;
  p.ns = Str(pod, {"metadata", "namespace"});
  p.name = Str(pod, {"metadata", "name"});
  p.uid = Str(pod, {"metadata", "uid"});
  p.node = Str(pod, {"spec", "nodeName"});
  p.phase = Str(pod, {"status", "phase"});
  p.group = Str(pod, {"metadata", "labels", "labkube.io/machine-group"});
  p.type = Str(pod, {"metadata", "labels", "labkube.io/machine-type"});
  p.terminating = json::Find(pod, {"metadata", "deletionTimestamp"}) != nullptr;
  return p;
}

std::string Describe(const std::vector<PodInfo>& pods) {
  std::vector<std::string> parts;
  for (const PodInfo& p : pods) parts.push_back(absl::StrCat(p.name, "@", p.node, ":", p.phase));
  return absl::StrCat(pods.size(), " [", absl::StrJoin(parts, ", "), "]");
}

std::string Describe(const api::Usage& u) {
  return absl::StrCat("maximum=", u.maximum(), " reserved=", u.reserved(), " used=", u.used(),
                      " waiting=", u.waiting(), " fits=", u.fits());
}

}  // namespace

// --- Setup and teardown ------------------------------------------------------------------------

void SchedulerLabTest::SetUp() {
  auto client = ClusterClient();
  ASSERT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
  ASSERT_NO_FATAL_FAILURE(RefuseForeignLeader());
  may_reset_ = true;  // TearDown must not touch a lab the guards refused
  ASSERT_NO_FATAL_FAILURE(EnsureManifests());
  ASSERT_NO_FATAL_FAILURE(ResetLab());
  ASSERT_NO_FATAL_FAILURE(CreateGuestNamespace());
}

void SchedulerLabTest::TearDown() {
  for (auto& s : schedulers_) {
    s->process().Kill(SIGTERM, absl::Seconds(10));
    if (HasFailure()) {
      std::cerr << "--- scheduler " << s->identity() << " log (" << s->process().log_path()
                << "), last lines:\n"
                << s->process().LogTail(40) << "\n";
    }
  }
  schedulers_.clear();
  if (client_ == nullptr || !may_reset_) return;
  if (!guest_ns_.empty()) DeleteGuestNamespace(guest_ns_);
  ResetLab();
}

// These tests delete every Machine. Never on the lab of `./dev.sh up` (the default state
// folder), and never while a scheduler that is not one of ours (identity "it-...") leads: it
// would fight the tests' schedulers over every Machine.
void SchedulerLabTest::RefuseForeignLeader() {
  std::string cache = std::getenv("LABKUBE_CACHE") != nullptr ? std::getenv("LABKUBE_CACHE") : "";
  if (cache.empty() && std::getenv("HOME") != nullptr) {
    cache = absl::StrCat(std::getenv("HOME"), "/.cache/labkube");
  }
  std::error_code ec;
  auto shared = std::filesystem::weakly_canonical(absl::StrCat(cache, "/state/kubeconfig"), ec);
  auto ours = std::filesystem::weakly_canonical(*Kubeconfig(), ec);
  ASSERT_NE(ours, shared)
      << "LABKUBE_KUBECONFIG is the kubeconfig of the shared local lab (" << shared
      << "); these tests delete every Machine. Run them against a cluster of their own: "
         "LABKUBE_STATE=/tmp/lk/it-state tests/cluster/cluster.sh up, then pass that "
         "cluster's LABKUBE_KUBECONFIG (tests/cluster/cluster.sh env).";
  const std::string holder = ForeignSchedulerLeader(*client_);
  ASSERT_EQ(holder, "")
      << "scheduler " << holder << " leads on this cluster (Lease " << kSystemNs << "/" << kLease
      << "). These tests delete every Machine: run them against a cluster of their own "
         "(LABKUBE_STATE=/tmp/lk/it-state tests/cluster/cluster.sh up) or stop it "
         "(tools/services.sh down).";
}

void SchedulerLabTest::EnsureManifests() {
  absl::Status applied = ApplyBaseAndCrd();
  ASSERT_TRUE(applied.ok()) << applied;
}

void SchedulerLabTest::ResetLab() {
  DeleteMachines();
  DeleteSlotPods();
  UnmarkNodes();
  EXPECT_TRUE(DeleteObject(*client_, res::Leases(), kSystemNs, kLease).ok());
}

void SchedulerLabTest::DeleteMachines() {
  auto list = client_->List(res::Machines(), "", {});
  ASSERT_TRUE(list.ok()) << list.status();
  for (const Value& m : list->items().GetArray()) {
    std::string name = Str(m, {"metadata", "name"});
    auto patched = client_->Patch(res::Machines(), "", name, kube::PatchType::kMergePatch,
                                  R"({"metadata":{"finalizers":null}})");
    EXPECT_TRUE(patched.ok() || absl::IsNotFound(patched.status())) << patched.status();
    EXPECT_TRUE(DeleteObject(*client_, res::Machines(), "", name).ok());
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        auto l = client_->List(res::Machines(), "", {});
        return l.ok() && l->items().Empty();
      },
      absl::Seconds(20)))
      << "Machines are left over";
}

// Every reservation and guest pod anywhere, and leftover guest namespaces of earlier runs.
void SchedulerLabTest::DeleteSlotPods() {
  kube::ListOptions by_role;
  by_role.label_selector = "labkube.io/pod-role";
  auto delete_all = [&] {
    auto pods = client_->List(res::Pods(), "", by_role);
    if (!pods.ok()) return false;
    for (const Value& p : pods->items().GetArray()) {
      DeleteObject(*client_, res::Pods(), Str(p, {"metadata", "namespace"}),
                   Str(p, {"metadata", "name"}), 0)
          .IgnoreError();
    }
    return pods->items().Empty();
  };
  EXPECT_TRUE(WaitFor(delete_all, absl::Seconds(30), absl::Milliseconds(500)))
      << "labkube pods are left over";
  kube::ListOptions by_label;
  by_label.label_selector = kGuestNsLabel;
  auto namespaces = client_->List(res::Namespaces(), "", by_label);
  if (!namespaces.ok()) return;
  for (const Value& ns : namespaces->items().GetArray()) {
    if (json::Find(ns, {"metadata", "deletionTimestamp"}) == nullptr) {
      DeleteGuestNamespace(Str(ns, {"metadata", "name"}));
    }
  }
}

// Removes labkube's labels, annotations and taints and uncordons every node.
void SchedulerLabTest::UnmarkNodes() {
  auto nodes = client_->List(res::Nodes(), "", {});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  for (const Value& n : nodes->items().GetArray()) {
    rapidjson::Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    bool dirty = json::GetBool(n, {"spec", "unschedulable"});
    for (const char* field : {"labels", "annotations"}) {
      for (const auto& [k, v] : StringMap(json::Find(n, {"metadata", field}))) {
        if (!absl::StartsWith(k, "labkube.io/")) continue;
        json::SetPath(patch, {"metadata", field, k}, Value(rapidjson::kNullType), a);
        dirty = true;
      }
    }
    Value taints(rapidjson::kArrayType);
    if (const Value* t = json::Find(n, {"spec", "taints"}); t != nullptr && t->IsArray()) {
      for (const Value& taint : t->GetArray()) {
        if (json::GetString(taint, {"key"}).starts_with("labkube.io/")) {
          dirty = true;
        } else {
          taints.PushBack(Value(taint, a), a);
        }
      }
    }
    if (!dirty) continue;
    json::SetPath(patch, {"spec", "taints"}, std::move(taints), a);
    json::SetPath(patch, {"spec", "unschedulable"}, Value(rapidjson::kNullType), a);
    auto s = client_->Patch(res::Nodes(), "", Str(n, {"metadata", "name"}),
                            kube::PatchType::kMergePatch, json::ToString(patch));
    EXPECT_TRUE(s.ok()) << s.status();
  }
}

void SchedulerLabTest::CreateGuestNamespace() {
  guest_ns_ = UniqueName("it-sched");
  rapidjson::Document ns = json::NewObject("v1", "Namespace", "", guest_ns_);
  json::SetString(ns, {"metadata", "labels", kGuestNsLabel}, "scheduler");
  // A namespace labkube serves: the guest-integrity policy (k8s/policy) lets guests there carry
  // the claim annotations these tests copy from Claim answers (no webhook runs here).
  json::SetString(ns, {"metadata", "labels", "labkube.io/inject-resource"}, "enabled");
  auto created = client_->Create(res::Namespaces(), "", ns);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(
      WaitFor([&] { return client_->Get(res::ServiceAccounts(), guest_ns_, "default").ok(); },
              absl::Seconds(30)))
      << "namespace " << guest_ns_ << " got no default ServiceAccount";
}

void SchedulerLabTest::DeleteGuestNamespace(const std::string& ns) {
  auto pods = client_->List(res::Pods(), ns, {});
  if (pods.ok()) {
    for (const Value& p : pods->items().GetArray()) {
      DeleteObject(*client_, res::Pods(), ns, Str(p, {"metadata", "name"}), 0).IgnoreError();
    }
  }
  EXPECT_TRUE(DeleteObject(*client_, res::Namespaces(), "", ns).ok());
}

// --- Schedulers and gRPC -----------------------------------------------------------------------

SchedulerProcess* SchedulerLabTest::StartScheduler(const std::string& name, SchedulerFlags flags) {
  if (flags.identity.empty()) flags.identity = UniqueName(absl::StrCat("it-", name));
  auto s = it::StartScheduler(flags);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  schedulers_.push_back(std::move(*s));
  return schedulers_.back().get();
}

std::unique_ptr<api::Scheduler::Stub> SchedulerLabTest::Stub(const SchedulerProcess& s) {
  return api::Scheduler::NewStub(
      grpc::CreateChannel(s.grpc_target(), grpc::InsecureChannelCredentials()));
}

absl::StatusOr<api::MachineType> SchedulerLabTest::GetType(api::Scheduler::Stub& stub,
                                                           const std::string& group,
                                                           const std::string& type) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  api::GetAvailabilityRequest req;
  req.set_group(group);
  req.set_machine_type(type);
  api::MachineType out;
  grpc::Status s = stub.GetAvailability(&ctx, req, &out);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return out;
}

::testing::AssertionResult SchedulerLabTest::WaitUsage(api::Scheduler::Stub& stub,
                                                       const std::string& group,
                                                       const std::string& type, int reserved,
                                                       int used, absl::Duration timeout) {
  std::string last;
  bool ok = WaitFor(
      [&] {
        auto t = GetType(stub, group, type);
        last = t.ok() ? Describe(t->usage()) : t.status().ToString();
        return t.ok() && t->usage().reserved() == reserved && t->usage().used() == used;
      },
      timeout, absl::Milliseconds(200));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << group << "/" << type << " never showed reserved=" << reserved << " used=" << used
         << "; last: " << last;
}

api::ClaimRequest SchedulerLabTest::ClaimRequest(const std::string& group, const std::string& type,
                                                 const std::string& pod_name) {
  api::ClaimRequest r;
  r.set_group(group);
  r.set_machine_type(type);
  r.set_namespace_(guest_ns_);
  r.set_pod_name(pod_name);
  r.set_admission_uid(UniqueName("admission"));
  return r;
}

grpc::Status SchedulerLabTest::Claim(api::Scheduler::Stub& stub, const api::ClaimRequest& request,
                                     api::ClaimResponse* response, absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return stub.Claim(&ctx, request, response);
}

// --- Machines, pods and nodes ------------------------------------------------------------------

void SchedulerLabTest::ApplyLabMachines() {
  absl::Status s = ApplyFile(Runfile(kLabMachines));
  ASSERT_TRUE(s.ok()) << s;
}

void SchedulerLabTest::PatchMachine(const std::string& name, const std::string& json_patch) {
  auto s = client_->Patch(res::Machines(), "", name, kube::PatchType::kJsonPatch, json_patch);
  ASSERT_TRUE(s.ok()) << s.status() << " patching " << name << " with " << json_patch;
}

std::vector<PodInfo> SchedulerLabTest::Reservations(const std::string& group,
                                                    const std::string& type) {
  kube::ListOptions o;
  o.label_selector =
      absl::StrCat("labkube.io/pod-role=reservation,labkube.io/machine-group=", group);
  if (!type.empty()) absl::StrAppend(&o.label_selector, ",labkube.io/machine-type=", type);
  std::vector<PodInfo> out;
  auto pods = client_->List(res::Pods(), kSystemNs, o);
  EXPECT_TRUE(pods.ok()) << pods.status();
  if (!pods.ok()) return out;
  for (const Value& p : pods->items().GetArray()) {
    PodInfo info = ToPodInfo(p);
    if (!info.terminating) out.push_back(std::move(info));
  }
  return out;
}

::testing::AssertionResult SchedulerLabTest::WaitReservations(const std::string& group,
                                                              const std::string& type, int n,
                                                              absl::Duration timeout) {
  std::vector<PodInfo> last;
  bool ok = WaitFor(
      [&] {
        last = Reservations(group, type);
        if (static_cast<int>(last.size()) != n) return false;
        for (const PodInfo& p : last) {
          if (p.phase != "Running" || p.node.empty()) return false;
        }
        return true;
      },
      timeout, absl::Milliseconds(200));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << n << " running reservation pods of "
                                       << group << "/" << type << ", have " << Describe(last);
}

void SchedulerLabTest::CreateGuest(const std::string& pod_name, const std::string& group,
                                   const std::string& type, const api::ClaimResponse& claim) {
  rapidjson::Document pod = json::NewObject("v1", "Pod", guest_ns_, pod_name);
  auto& a = pod.GetAllocator();
  json::SetString(pod, {"metadata", "labels", "labkube.io/pod-role"}, "guest");
  json::SetString(pod, {"metadata", "labels", "labkube.io/machine-group"}, group);
  json::SetString(pod, {"metadata", "labels", "labkube.io/machine-type"}, type);
  json::SetPath(pod, {"metadata", "annotations"}, MapValue(claim.annotations(), a), a);
  Value resources(rapidjson::kObjectType);
  resources.AddMember("requests", MapValue(claim.requests(), a), a);
  resources.AddMember("limits", MapValue(claim.limits(), a), a);
  Value container(rapidjson::kObjectType);
  container.AddMember("name", "main", a);
  container.AddMember("image", Value(kImage, a), a);
  container.AddMember("resources", resources, a);
  Value containers(rapidjson::kArrayType);
  containers.PushBack(container, a);
  json::SetPath(pod, {"spec", "containers"}, std::move(containers), a);
  Value expressions(rapidjson::kArrayType);
  for (const api::NodeSelectorRequirement& r : claim.node_affinity()) {
    Value e(rapidjson::kObjectType);
    e.AddMember("key", json::String(r.key(), a), a);
    e.AddMember("operator", json::String(r.operator_(), a), a);
    Value values(rapidjson::kArrayType);
    for (const std::string& v : r.values()) values.PushBack(json::String(v, a), a);
    e.AddMember("values", values, a);
    expressions.PushBack(e, a);
  }
  Value term(rapidjson::kObjectType);
  term.AddMember("matchExpressions", expressions, a);
  Value terms(rapidjson::kArrayType);
  terms.PushBack(term, a);
  json::SetPath(pod,
                {"spec", "affinity", "nodeAffinity",
                 "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"},
                std::move(terms), a);
  Value tolerations(rapidjson::kArrayType);
  for (const api::Toleration& t : claim.tolerations()) {
    Value v(rapidjson::kObjectType);
    v.AddMember("key", json::String(t.key(), a), a);
    v.AddMember("operator", json::String(t.operator_(), a), a);
    if (!t.value().empty()) v.AddMember("value", json::String(t.value(), a), a);
    v.AddMember("effect", json::String(t.effect(), a), a);
    tolerations.PushBack(v, a);
  }
  json::SetPath(pod, {"spec", "tolerations"}, std::move(tolerations), a);
  json::SetInt(pod, {"spec", "terminationGracePeriodSeconds"}, 0);
  json::SetBool(pod, {"spec", "automountServiceAccountToken"}, false);
  auto created = client_->Create(res::Pods(), guest_ns_, pod);
  ASSERT_TRUE(created.ok()) << created.status() << " creating guest " << pod_name;
}

std::string SchedulerLabTest::WaitGuestRunning(const std::string& pod_name,
                                               absl::Duration timeout) {
  std::string node, phase = "(not found)";
  bool ok = WaitFor(
      [&] {
        auto p = client_->Get(res::Pods(), guest_ns_, pod_name);
        if (!p.ok()) return false;
        phase = Str(*p, {"status", "phase"});
        node = Str(*p, {"spec", "nodeName"});
        return phase == "Running" && !node.empty();
      },
      timeout, absl::Milliseconds(200));
  EXPECT_TRUE(ok) << "guest " << pod_name << " is not Running: phase " << phase << " node " << node;
  return ok ? node : "";
}

void SchedulerLabTest::DeleteGuest(const std::string& pod_name) {
  absl::Status s = DeleteObject(*client_, res::Pods(), guest_ns_, pod_name, 0);
  EXPECT_TRUE(s.ok()) << s;
}

rapidjson::Document SchedulerLabTest::GetMachine(const std::string& name) {
  auto m = client_->Get(res::Machines(), "", name);
  return m.ok() ? std::move(*m) : rapidjson::Document();
}

rapidjson::Document SchedulerLabTest::GetNode(const std::string& name) {
  auto n = client_->Get(res::Nodes(), "", name);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? std::move(*n) : rapidjson::Document();
}

::testing::AssertionResult SchedulerLabTest::WaitMachine(
    const std::string& name, const std::function<bool(const rapidjson::Value&)>& pred,
    rapidjson::Document* out, absl::Duration timeout) {
  rapidjson::Document last;
  bool ok = WaitFor(
      [&] {
        last = GetMachine(name);
        return last.IsObject() && pred(last);
      },
      timeout, absl::Milliseconds(200));
  std::string text = last.IsObject() ? json::ToString(last) : "(not found)";
  if (out != nullptr) *out = std::move(last);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "Machine " << name << " never matched; last: " << text;
}

void SchedulerLabTest::Cordon(const std::string& node, bool cordoned) {
  auto s = client_->Patch(
      res::Nodes(), "", node, kube::PatchType::kMergePatch,
      cordoned ? R"({"spec":{"unschedulable":true}})" : R"({"spec":{"unschedulable":null}})");
  ASSERT_TRUE(s.ok()) << s.status();
}

// --- Object helpers ----------------------------------------------------------------------------

namespace {
const Value* NamedEntry(const Value& machine, json::Path path, const std::string& name) {
  const Value* list = json::Find(machine, path);
  if (list == nullptr || !list->IsArray()) return nullptr;
  for (const Value& e : list->GetArray()) {
    if (json::GetString(e, {"name"}) == name) return &e;
  }
  return nullptr;
}
}  // namespace

const Value* StatusType(const Value& machine, const std::string& type) {
  return NamedEntry(machine, {"status", "availableMachines"}, type);
}

const Value* StatusPoolNode(const Value& machine, const std::string& node) {
  return NamedEntry(machine, {"status", "nodePool"}, node);
}

std::string ReadyStatus(const Value& machine, std::string* message) {
  const Value* conditions = json::Find(machine, {"status", "conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return "";
  for (const Value& c : conditions->GetArray()) {
    if (json::GetString(c, {"type"}) != "Ready") continue;
    if (message != nullptr) *message = Str(c, {"message"});
    return Str(c, {"status"});
  }
  return "";
}

std::map<std::string, std::string> Labels(const Value& obj) {
  return StringMap(json::Find(obj, {"metadata", "labels"}));
}

std::map<std::string, std::string> Annotations(const Value& obj) {
  return StringMap(json::Find(obj, {"metadata", "annotations"}));
}

std::vector<std::string> LabkubeTaints(const Value& node) {
  std::vector<std::string> out;
  const Value* taints = json::Find(node, {"spec", "taints"});
  if (taints == nullptr || !taints->IsArray()) return out;
  for (const Value& t : taints->GetArray()) {
    std::string key = Str(t, {"key"});
    if (!absl::StartsWith(key, "labkube.io/")) continue;
    out.push_back(absl::StrCat(key, "=", Str(t, {"value"}), ":", Str(t, {"effect"})));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace labkube::it
