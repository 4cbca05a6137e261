#include "tests/integration/injector/injector_lab.h"

#include <cstdlib>
#include <fstream>

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using rapidjson::Value;

constexpr char kLease[] = "labkube-scheduler";
const char* const kGpuNodes[] = {"gpu-3090-a", "gpu-3090-b", "dgx-1"};

// The GPU group of k8s/examples/machine-local-lab.yaml under another name.
constexpr char kMachineYaml[] = R"(apiVersion: labkube.io/v1alpha1
kind: Machine
metadata:
  name: GROUP
  labels: {labkube.io/machine-group: GROUP, labkube-it: injector}
spec:
  nodePool:
    - {name: gpu-3090-a, mode: ready, taint: true, machineType: [{name: rtx3090-x2}, {name: rtx3090-x1}]}
    - {name: gpu-3090-b, mode: ready, taint: true, machineType: [{name: rtx3090-x2}, {name: rtx3090-x1}]}
    - {name: dgx-1, mode: ready, taint: true, machineType: [{name: v100-x4}, {name: v100-x1}]}
  machineTypes:
    - name: rtx3090-x2
      spec: {cpu: 8000m, memory: 32Gi, gpu: {type: nvidia.com/gpu, num: 2, product: NVIDIA-GeForce-RTX-3090}}
      available: 1
    - name: rtx3090-x1
      spec: {cpu: 4000m, memory: 16Gi, gpu: {type: nvidia.com/gpu, num: 1, family: ampere}}
      available: 2
    - name: v100-x4
      spec: {cpu: 32, memory: 200Gi, gpu: {type: nvidia.com/gpu, num: 4, machine: DGX-1}}
      available: 1
    - name: v100-x1
      spec: {cpu: 8, memory: 48Gi, gpu: {type: nvidia.com/gpu, num: 1, family: volta}}
      available: 4
)";
constexpr int kReservationPods = 1 + 2 + 1 + 4;

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

// True when `node` carries no labkube.io/ label, annotation or taint; else *why says which.
bool NodesCleanOne(const Value& node, std::string* why) {
  std::string name = Str(node, {"metadata", "name"});
  for (const auto& [k, v] : Labels(node)) {
    if (absl::StartsWith(k, "labkube.io/")) *why = absl::StrCat(name, " has label ", k);
  }
  for (const auto& [k, v] : Annotations(node)) {
    if (absl::StartsWith(k, "labkube.io/")) *why = absl::StrCat(name, " has annotation ", k);
  }
  const Value* taints = json::Find(node, {"spec", "taints"});
  if (taints != nullptr && taints->IsArray()) {
    for (const Value& t : taints->GetArray()) {
      if (json::GetString(t, {"key"}).starts_with("labkube.io/")) {
        *why = absl::StrCat(name, " has taint ", Str(t, {"key"}));
      }
    }
  }
  return why->empty();
}

bool IsOurs(const Value& obj) { return Labels(obj)[kItLabel] == kItValue; }

std::string DescribeUsage(const absl::StatusOr<Usage>& u) {
  if (!u.ok()) return u.status().ToString();
  return absl::StrCat("reserved=", u->reserved, " used=", u->used);
}

}  // namespace

// --- Setup and teardown ------------------------------------------------------------------------

void InjectorLabTest::SetUp() {
  ASSERT_NO_FATAL_FAILURE(WebhookLabTest::SetUp());
  ASSERT_NO_FATAL_FAILURE(EnsureManifests());
  ASSERT_NO_FATAL_FAILURE(RefuseForeignState());
  ASSERT_NO_FATAL_FAILURE(ForceCleanUp());  // whatever a crashed run left
  identity_ = UniqueName("it-inj");
  ASSERT_NO_FATAL_FAILURE(MakeSchedulerAccount());
  SchedulerFlags flags;
  flags.identity = identity_;
  flags.extra_args = {absl::StrCat("--kubeconfig=", scheduler_kubeconfig_)};
  auto s = StartScheduler(flags);
  ASSERT_TRUE(s.ok()) << s.status();
  scheduler_ = std::move(*s);
  scheduler_grpc_port_ = scheduler_->grpc_port();
  scheduler_http_port_ = scheduler_->http_port();
  stub_ = api::Scheduler::NewStub(
      grpc::CreateChannel(scheduler_->grpc_target(), grpc::InsecureChannelCredentials()));
  ASSERT_NO_FATAL_FAILURE(StartInjector());
  ns_ = CreateNamespace("it-inj", /*enabled=*/true);
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(ApplyMachine());
  ASSERT_NO_FATAL_FAILURE(RegisterWebhook(injector_port_));
  ASSERT_TRUE(WaitWebhookActive(ns_, group_, kType, [](const CommandResult& r) {
    return r.exit_code == 0 && absl::StrContains(r.output, "labkube.io/claim");
  }));
}

void InjectorLabTest::TearDown() {
  WebhookLabTest::TearDown();  // the webhook first, then the namespaces
  if (client_ == nullptr) return;
  CleanUpMachine();
  StopProcesses();
}

void InjectorLabTest::RefuseForeignState() {
  auto machines = client_->List(res::Machines(), "", {});
  ASSERT_TRUE(machines.ok()) << machines.status();
  for (const Value& m : machines->items().GetArray()) {
    ASSERT_TRUE(IsOurs(m)) << "Machine " << Str(m, {"metadata", "name"})
                           << " is not one of these tests'; the test group spans the GPU nodes. "
                              "Run against a cluster of their own "
                              "(LABKUBE_STATE=/tmp/lk/inj-state tests/cluster/cluster.sh up).";
  }
  const std::string holder = ForeignSchedulerLeader(*client_);
  ASSERT_EQ(holder, "") << "scheduler " << holder
                        << " leads on this cluster; run against a cluster of its own.";
}

void InjectorLabTest::EnsureManifests() {
  absl::Status applied = ApplyBaseAndCrd();
  ASSERT_TRUE(applied.ok()) << applied;
}

std::string ClusterCa() {
  std::string kubeconfig = Kubeconfig().value_or("");
  return absl::StrCat(kubeconfig.substr(0, kubeconfig.rfind('/')), "/pki/ca.crt");
}

void InjectorLabTest::StartInjector() {
  injector_port_ = FreePort();
  auto p = Process::Start(
      absl::StrCat("injector-", identity_), Runfile("services/injector/injector"),
      {"--address=127.0.0.1", absl::StrCat("--port=", injector_port_),
       absl::StrCat("--tls_cert=", certs().cert_file), absl::StrCat("--tls_key=", certs().key_file),
       absl::StrCat("--scheduler=127.0.0.1:", scheduler_grpc_port_), "--scheduler_plaintext",
       // Reviews only from the API server: cluster.sh has it present the client certificate
       // labkube-webhook-client, signed by the cluster's CA, to every webhook.
       absl::StrCat("--client_ca=", ClusterCa()), "--log_level=debug"});
  ASSERT_TRUE(p.ok()) << p.status();
  injector_ = std::move(*p);
  bool ready = WaitFor([&] { return !injector_->Running() || InjectorGet("/readyz").first == 200; },
                       absl::Seconds(30));
  ASSERT_TRUE(ready && injector_->Running())
      << "injector not ready over HTTPS (log " << injector_->log_path() << "):\n"
      << injector_->LogTail();
}

void InjectorLabTest::ApplyMachine() {
  group_ = UniqueName("it-gpu");
  std::string yaml = kMachineYaml;
  for (size_t at; (at = yaml.find("GROUP")) != std::string::npos;) yaml.replace(at, 5, group_);
  absl::Status s = ApplyYaml(yaml);
  ASSERT_TRUE(s.ok()) << s;
  std::vector<std::string> last;
  bool running = WaitFor(
      [&] {
        kube::ListOptions o;
        o.label_selector =
            absl::StrCat("labkube.io/pod-role=reservation,labkube.io/machine-group=", group_);
        auto pods = client_->List(res::Pods(), kSystemNs, o);
        if (!pods.ok()) return false;
        last.clear();
        int n = 0;
        for (const Value& p : pods->items().GetArray()) {
          last.push_back(absl::StrCat(Str(p, {"metadata", "name"}), "@",
                                      Str(p, {"spec", "nodeName"}), ":",
                                      Str(p, {"status", "phase"})));
          n += Str(p, {"status", "phase"}) == "Running" ? 1 : 0;
        }
        return n == kReservationPods && static_cast<int>(last.size()) == kReservationPods;
      },
      kConverge, absl::Milliseconds(250));
  ASSERT_TRUE(running) << "expected " << kReservationPods << " running reservation pods of "
                       << group_ << ", have [" << absl::StrJoin(last, ", ") << "]";
  ASSERT_TRUE(WaitUsage({kTypeSlots, 0}));
}

// Deletes the Machine with a scheduler running and waits for the scheduler's cleanup.
void InjectorLabTest::CleanUpMachine() {
  if (group_.empty()) return;
  if (scheduler_ == nullptr || !scheduler_->process().Running()) RestartScheduler();
  EXPECT_TRUE(DeleteObject(*client_, res::Machines(), "", group_).ok());
  std::string why;
  bool clean = WaitFor(
      [&] {
        if (client_->Get(res::Machines(), "", group_).ok()) {
          why = "the Machine still exists";
          return false;
        }
        if (!ReservationPods().empty()) {
          why = absl::StrCat("reservation pods left: ", absl::StrJoin(ReservationPods(), ", "));
          return false;
        }
        return NodesClean(&why);
      },
      kConverge, absl::Milliseconds(250));
  EXPECT_TRUE(clean) << "the scheduler did not clean up Machine " << group_ << ": " << why;
  if (!clean) ForceCleanUp();
}

bool InjectorLabTest::NodesClean(std::string* why) {
  why->clear();
  for (const char* name : kGpuNodes) {
    auto node = client_->Get(res::Nodes(), "", name);
    if (node.ok() && !NodesCleanOne(*node, why)) return false;
  }
  return true;
}

// Removes by force what these tests put on the cluster: our Machines (finalizer stripped),
// reservation pods, labkube marks on the GPU nodes, a Lease of a test scheduler.
void InjectorLabTest::ForceCleanUp() {
  auto machines = client_->List(res::Machines(), "", {});
  ASSERT_TRUE(machines.ok()) << machines.status();
  for (const Value& m : machines->items().GetArray()) {
    if (!IsOurs(m)) continue;
    std::string name = Str(m, {"metadata", "name"});
    client_
        ->Patch(res::Machines(), "", name, kube::PatchType::kMergePatch,
                R"({"metadata":{"finalizers":null}})")
        .IgnoreError();
    DeleteObject(*client_, res::Machines(), "", name).IgnoreError();
  }
  kube::ListOptions o;
  o.label_selector = "labkube.io/pod-role=reservation";
  if (auto pods = client_->List(res::Pods(), kSystemNs, o); pods.ok()) {
    for (const Value& p : pods->items().GetArray()) {
      DeleteObject(*client_, res::Pods(), kSystemNs, Str(p, {"metadata", "name"}), 0).IgnoreError();
    }
  }
  for (const char* name : kGpuNodes) {
    auto node = client_->Get(res::Nodes(), "", name);
    if (!node.ok()) continue;
    std::string why;
    if (NodesCleanOne(*node, &why)) continue;
    rapidjson::Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    for (const char* field : {"labels", "annotations"}) {
      const Value* m = json::Find(*node, {"metadata", field});
      if (m == nullptr || !m->IsObject()) continue;
      for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
        std::string key(json::View(it->name));
        if (absl::StartsWith(key, "labkube.io/")) {
          json::SetPath(patch, {"metadata", field, key}, Value(rapidjson::kNullType), a);
        }
      }
    }
    Value taints(rapidjson::kArrayType);
    if (const Value* t = json::Find(*node, {"spec", "taints"}); t != nullptr && t->IsArray()) {
      for (const Value& taint : t->GetArray()) {
        if (!json::GetString(taint, {"key"}).starts_with("labkube.io/")) {
          taints.PushBack(Value(taint, a), a);
        }
      }
    }
    json::SetPath(patch, {"spec", "taints"}, std::move(taints), a);
    auto s =
        client_->Patch(res::Nodes(), "", name, kube::PatchType::kMergePatch, json::ToString(patch));
    EXPECT_TRUE(s.ok()) << s.status();
  }
  auto lease = client_->Get(res::Leases(), kSystemNs, kLease);
  if (lease.ok() && absl::StartsWith(Str(*lease, {"spec", "holderIdentity"}), "it-")) {
    DeleteObject(*client_, res::Leases(), kSystemNs, kLease).IgnoreError();
  }
}

// The scheduler runs as a ServiceAccount of labkube-system, as it does when installed: the
// guest-integrity policy exempts labkube's own accounts (its handover patches waiting pods),
// so a scheduler running as the cluster admin would be held to the members' rules.
void InjectorLabTest::MakeSchedulerAccount() {
  constexpr char kAccount[] = "it-injector-scheduler";  // not labkube-*: uninstall_test checks those
  std::string yaml = absl::StrCat(
      "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ", kAccount, ", namespace: ",
      kSystemNs, "}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n",
      "metadata: {name: ", kAccount, "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ",
      "ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: ", kAccount,
      ", namespace: ", kSystemNs, "}]\n");
  absl::Status applied = ApplyYaml(yaml);
  ASSERT_TRUE(applied.ok()) << applied;
  auto token = Kubectl({"create", "token", "-n", kSystemNs, kAccount, "--duration=2h"});
  ASSERT_TRUE(token.ok()) << token.status();
  auto server = Kubectl({"config", "view", "--raw", "--minify", "--flatten", "-o",
                         "jsonpath={.clusters[0].cluster.server}"});
  auto ca = Kubectl({"config", "view", "--raw", "--minify", "--flatten", "-o",
                     "jsonpath={.clusters[0].cluster.certificate-authority-data}"});
  ASSERT_TRUE(server.ok() && ca.ok()) << server.status() << ca.status();
  // Not among the test outputs: it holds a token.
  const char* tmp = std::getenv("TEST_TMPDIR");
  scheduler_kubeconfig_ =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/scheduler-", identity_, ".kubeconfig");
  std::string config = absl::StrCat(
      "apiVersion: v1\nkind: Config\nclusters: [{name: lab, cluster: {server: '",
      absl::StripAsciiWhitespace(*server), "', certificate-authority-data: ",
      absl::StripAsciiWhitespace(*ca), "}}]\nusers: [{name: sa, user: {token: ",
      absl::StripAsciiWhitespace(*token), "}}]\ncontexts: [{name: sa, context: {cluster: lab, ",
      "user: sa}}]\ncurrent-context: sa\n");
  std::ofstream(scheduler_kubeconfig_) << config;
}

void InjectorLabTest::StopProcesses() {
  auto stop = [&](Process& p) {
    p.Kill(SIGTERM, absl::Seconds(10));
    if (HasFailure()) {
      std::cerr << "--- " << p.name() << " log (" << p.log_path() << "), last lines:\n"
                << p.LogTail(40) << "\n";
    }
  };
  if (injector_ != nullptr) stop(*injector_);
  if (scheduler_ != nullptr) stop(scheduler_->process());
  injector_.reset();
  scheduler_.reset();
  // Ours, or released by ours on SIGTERM.
  auto lease = client_->Get(res::Leases(), kSystemNs, kLease);
  std::string holder = lease.ok() ? Str(*lease, {"spec", "holderIdentity"}) : "-";
  if (holder == identity_ || holder.empty()) {
    DeleteObject(*client_, res::Leases(), kSystemNs, kLease).IgnoreError();
  }
}

// --- Scheduler ---------------------------------------------------------------------------------

void InjectorLabTest::KillScheduler() {
  ASSERT_NE(scheduler_, nullptr);
  scheduler_->process().Kill(SIGKILL);
}

void InjectorLabTest::RestartScheduler() {
  if (scheduler_grpc_port_ == 0) return;  // never started
  if (scheduler_ != nullptr) scheduler_->process().Kill(SIGKILL);
  DeleteObject(*client_, res::Leases(), kSystemNs, kLease).IgnoreError();
  // The harness picks new ports; later flags override earlier ones, so pin the old ones.
  SchedulerFlags flags;
  flags.identity = identity_;
  flags.wait = SchedulerFlags::Wait::kNone;
  flags.extra_args = {absl::StrCat("--grpc_address=127.0.0.1:", scheduler_grpc_port_),
                      absl::StrCat("--http_port=", scheduler_http_port_),
                      absl::StrCat("--kubeconfig=", scheduler_kubeconfig_)};
  auto s = StartScheduler(flags);
  ASSERT_TRUE(s.ok()) << s.status();
  scheduler_ = std::move(*s);
  bool ready = WaitFor(
      [&] {
        return !scheduler_->process().Running() ||
               HttpGetStatus(scheduler_http_port_, "/readyz") == 200;
      },
      absl::Seconds(30));
  ASSERT_TRUE(ready && scheduler_->process().Running()) << "restarted scheduler not ready:\n"
                                                        << scheduler_->process().LogTail();
}

absl::StatusOr<api::MachineType> InjectorLabTest::Availability(const std::string& type) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  api::GetAvailabilityRequest req;
  req.set_group(group_);
  req.set_machine_type(type);
  api::MachineType out;
  grpc::Status s = stub_->GetAvailability(&ctx, req, &out);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return out;
}

absl::StatusOr<Usage> InjectorLabTest::GetUsage(const std::string& type) {
  auto t = Availability(type);
  if (!t.ok()) return t.status();
  return Usage{t->usage().reserved(), t->usage().used()};
}

::testing::AssertionResult InjectorLabTest::WaitUsage(Usage want, const std::string& type,
                                                      absl::Duration timeout) {
  absl::StatusOr<Usage> last;
  bool ok = WaitFor(
      [&] {
        last = GetUsage(type);
        return last.ok() && *last == want;
      },
      timeout, absl::Milliseconds(200));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << group_ << "/" << type << " never showed "
                                       << DescribeUsage(want) << "; last: " << DescribeUsage(last);
}

::testing::AssertionResult InjectorLabTest::StaysUsage(Usage want, absl::Duration period,
                                                       const std::string& type) {
  absl::StatusOr<Usage> last;
  bool changed = WaitFor(
      [&] {
        last = GetUsage(type);
        return !last.ok() || !(*last == want);
      },
      period, absl::Milliseconds(200));
  if (!changed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << group_ << "/" << type << " changed from "
                                       << DescribeUsage(want) << " to " << DescribeUsage(last);
}

// --- Pods and the injector ---------------------------------------------------------------------

std::vector<std::string> InjectorLabTest::ReservationPods() {
  kube::ListOptions o;
  o.label_selector =
      absl::StrCat("labkube.io/pod-role=reservation,labkube.io/machine-group=", group_);
  std::vector<std::string> out;
  auto pods = client_->List(res::Pods(), kSystemNs, o);
  EXPECT_TRUE(pods.ok()) << pods.status();
  if (!pods.ok()) return out;
  for (const Value& p : pods->items().GetArray()) {
    if (json::Find(p, {"metadata", "deletionTimestamp"}) != nullptr) continue;
    out.push_back(absl::StrCat(Str(p, {"metadata", "name"}), "/", Str(p, {"metadata", "uid"})));
  }
  std::sort(out.begin(), out.end());
  return out;
}

rapidjson::Document InjectorLabTest::WaitRunning(const std::string& ns, const std::string& name,
                                                 absl::Duration timeout) {
  rapidjson::Document last;
  bool ok = WaitFor(
      [&] {
        auto p = GetPod(ns, name);
        if (!p.ok()) return false;
        last = std::move(*p);
        return Str(last, {"status", "phase"}) == "Running" &&
               !Str(last, {"spec", "nodeName"}).empty();
      },
      timeout, absl::Milliseconds(200));
  EXPECT_TRUE(ok) << "pod " << ns << "/" << name << " is not Running: "
                  << (last.IsObject() ? json::ToString(last) : "(not found)");
  return ok ? std::move(last) : rapidjson::Document();
}

std::pair<int, std::string> InjectorLabTest::InjectorGet(const std::string& path) {
  httplib::SSLClient client("127.0.0.1", injector_port_);
  client.set_ca_cert_path(certs().ca_file.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  httplib::Result r = client.Get(path.c_str());
  if (!r) return {0, ""};
  return {r->status, r->body};
}

}  // namespace labkube::it
