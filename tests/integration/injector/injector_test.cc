// The injector between the real kube-apiserver and the real scheduler (see injector_lab.h):
// guest pods get their slot and run on the claimed node, a Deployment gets only the free slots,
// other pods are not touched, dry runs consume nothing, and a scheduler that is down refuses
// guests (only them) within the webhook timeout.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/quantity.h"
#include "lib/kube/resource.h"
#include "tests/integration/injector/injector_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using rapidjson::Value;

std::string Str(const Value& v, json::Path path) { return std::string(json::GetString(v, path)); }

// The container's requests and limits both equal the machine type's cpu / memory / GPUs.
void ExpectTypeResources(const Value& container, const api::MachineTypeSpec& spec) {
  for (const char* kind : {"requests", "limits"}) {
    const Value* r = json::Find(container, {"resources", kind});
    ASSERT_NE(r, nullptr) << kind << " missing: " << json::ToString(container);
    EXPECT_EQ(kube::QuantityMilli((*r)["cpu"]).value_or(-1),
              kube::ParseQuantityMilli(spec.cpu()).value_or(-2))
        << kind << ": " << json::ToString(*r);
    EXPECT_EQ(kube::QuantityValue((*r)["memory"]).value_or(-1),
              kube::ParseQuantity(spec.memory()).value_or(-2))
        << kind << ": " << json::ToString(*r);
    const Value* gpu = json::FindMember(*r, spec.gpu().type());
    ASSERT_NE(gpu, nullptr) << kind << ": " << json::ToString(*r);
    EXPECT_EQ(kube::QuantityValue(*gpu).value_or(-1), spec.gpu().num()) << kind;
  }
}

bool HasRequirement(const Value& term, const std::string& key, const std::string& value) {
  const Value* exprs = json::Find(term, {"matchExpressions"});
  if (exprs == nullptr || !exprs->IsArray()) return false;
  for (const Value& e : exprs->GetArray()) {
    const Value* values = json::Find(e, {"values"});
    if (Str(e, {"key"}) != key || Str(e, {"operator"}) != "In" || values == nullptr ||
        !values->IsArray()) {
      continue;
    }
    for (const Value& v : values->GetArray()) {
      if (v.IsString() && json::View(v) == value) return true;
    }
  }
  return false;
}

// Every required node-selector term pins the pod to the type's nodes of the group and the node.
void ExpectPinned(const Value& pod, const std::string& group, const std::string& node) {
  const Value* terms =
      json::Find(pod, {"spec", "affinity", "nodeAffinity",
                       "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"});
  ASSERT_TRUE(terms != nullptr && terms->IsArray() && !terms->Empty()) << json::ToString(pod);
  for (const Value& term : terms->GetArray()) {
    EXPECT_TRUE(HasRequirement(term, absl::StrCat("labkube.io/", kType), group))
        << json::ToString(term);
    EXPECT_TRUE(HasRequirement(term, "kubernetes.io/hostname", node)) << json::ToString(term);
  }
}

// The pod tolerates every labkube taint of `node`.
void ExpectToleratesLabkubeTaints(const Value& pod, const Value& node) {
  const Value* taints = json::Find(node, {"spec", "taints"});
  ASSERT_TRUE(taints != nullptr && taints->IsArray()) << "node has no taints";
  const Value* tolerations = json::Find(pod, {"spec", "tolerations"});
  ASSERT_TRUE(tolerations != nullptr && tolerations->IsArray());
  int labkube_taints = 0;
  for (const Value& t : taints->GetArray()) {
    if (!json::GetString(t, {"key"}).starts_with("labkube.io/")) continue;
    ++labkube_taints;
    bool tolerated = false;
    for (const Value& tol : tolerations->GetArray()) {
      tolerated |= Str(tol, {"key"}) == Str(t, {"key"}) && Str(tol, {"operator"}) == "Equal" &&
                   Str(tol, {"value"}) == Str(t, {"value"}) &&
                   Str(tol, {"effect"}) == Str(t, {"effect"});
    }
    EXPECT_TRUE(tolerated) << "taint " << json::ToString(t) << " not tolerated by "
                           << json::ToString(*tolerations);
  }
  EXPECT_GT(labkube_taints, 0) << json::ToString(*taints);
}

// Nothing of labkube's in a pod the injector must not touch.
void ExpectUntouched(const Value& pod) {
  std::string name = Str(pod, {"metadata", "name"});
  for (const auto& [k, v] : Annotations(pod)) {
    EXPECT_FALSE(absl::StartsWith(k, "labkube.io/")) << name << " got annotation " << k;
  }
  const Value& c = pod["spec"]["containers"][0];
  EXPECT_EQ(json::Find(c, {"resources", "requests"}), nullptr) << name << json::ToString(c);
  EXPECT_EQ(json::Find(c, {"resources", "limits"}), nullptr) << name << json::ToString(c);
  EXPECT_EQ(json::Find(pod, {"spec", "affinity"}), nullptr) << name;
  if (const Value* t = json::Find(pod, {"spec", "tolerations"}); t != nullptr) {
    EXPECT_FALSE(absl::StrContains(json::ToString(*t), "labkube.io/")) << name;
  }
}

// Sum of labkube_injector_admissions_total over its labels in a /metrics text.
double AdmissionsTotal(const std::string& metrics) {
  double total = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, "labkube_injector_admissions_total")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) total += v;
  }
  return total;
}

std::string PlainPodYaml(const std::string& ns, const std::string& name,
                         const std::string& extra_labels) {
  return absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ", name, "\n  namespace: ", ns,
                      "\n  labels: {app: plain", extra_labels, "}\nspec:\n",
                      "  terminationGracePeriodSeconds: 0\n  containers:\n",
                      "    - {name: main, image: ", kPauseImage, "}\n");
}

constexpr char kDeploymentYaml[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: train, namespace: $NS}
spec:
  replicas: $REPLICAS
  selector: {matchLabels: {app: train}}
  template:
    metadata:
      labels: {app: train, labkube.io/pod-role: guest, labkube.io/machine-group: $GROUP,
               labkube.io/machine-type: $TYPE}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: main, image: $IMAGE}]
)";

using InjectorTest = InjectorLabTest;

TEST_F(InjectorTest, GuestPodGetsItsSlotAndRunsOnTheClaimedNode) {
  auto type = Availability();
  ASSERT_TRUE(type.ok()) << type.status();
  rapidjson::Document pod = CreatedObject(KubectlCreate(GuestPodYaml(ns_, "guest", group_, kType)));
  ASSERT_TRUE(pod.IsObject());

  auto annotations = Annotations(pod);
  std::string node = annotations["labkube.io/node"];
  EXPECT_FALSE(annotations["labkube.io/claim"].empty());
  EXPECT_NE(annotations["labkube.io/claim"], "dry-run");
  EXPECT_EQ(annotations["labkube.io/claim-signature"].rfind("v1.", 0), 0u) << "signed claim";
  ASSERT_TRUE(node == "gpu-3090-a" || node == "gpu-3090-b") << "claimed node '" << node << "'";
  ExpectTypeResources(pod["spec"]["containers"][0], type->spec());
  ExpectPinned(pod, group_, node);
  auto n = client_->Get(res::Nodes(), "", node);
  ASSERT_TRUE(n.ok()) << n.status();
  ExpectToleratesLabkubeTaints(pod, *n);

  rapidjson::Document running = WaitRunning(ns_, "guest");
  ASSERT_TRUE(running.IsObject());
  EXPECT_EQ(Str(running, {"spec", "nodeName"}), node);
  EXPECT_TRUE(WaitUsage({kTypeSlots - 1, 1}));
}

// With queueing Disabled for the type (imperator's behaviour; queue_test.cc has the default).
TEST_F(InjectorTest, DeploymentGetsOnlyTheFreeSlotsAndAnEventForTheRestWithoutQueueing) {
  CommandResult off = RunKubectl(
      {"patch", "machine", group_, "--type=json", "-p",
       R"([{"op":"add","path":"/spec/machineTypes/1/queueing","value":"Disabled"}])"});
  ASSERT_EQ(off.exit_code, 0) << off.output;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto m = client_->Get(res::Machines(), "", group_);
        return m.ok() && json::GetInt(*m, {"status", "observedGeneration"}) ==
                             json::GetInt(*m, {"metadata", "generation"});
      },
      kConverge))
      << "the scheduler never observed queueing: Disabled";
  std::string yaml =
      absl::StrReplaceAll(kDeploymentYaml, {{"$NS", ns_},
                                            {"$REPLICAS", absl::StrCat(kTypeSlots + 1)},
                                            {"$GROUP", group_},
                                            {"$TYPE", kType},
                                            {"$IMAGE", kPauseImage}});
  CommandResult created = KubectlCreate(yaml);
  ASSERT_EQ(created.exit_code, 0) << created.output;

  std::string event;
  ASSERT_TRUE(WaitFor(
      [&] {
        kube::ListOptions o;
        o.field_selector = "involvedObject.kind=ReplicaSet,reason=FailedCreate";
        auto events = client_->List(res::Events(), ns_, o);
        if (!events.ok()) return false;
        for (const Value& e : events->items().GetArray()) {
          event = Str(e, {"message"});
          if (absl::StrContains(event, "no free")) return true;
        }
        return false;
      },
      kConverge, absl::Milliseconds(250)))
      << "no FailedCreate event of the ReplicaSet; last: " << event;
  EXPECT_TRUE(absl::StrContains(event, "admission webhook \"injector.labkube.io\" denied"))
      << event;
  EXPECT_TRUE(absl::StrContains(event, absl::StrCat("labkube: no free ", kType, " slot"))) << event;

  // Exactly the free slots become pods, each Running on the node it claimed.
  kube::ListOptions by_app;
  by_app.label_selector = "app=train";
  std::vector<std::string> running;
  auto count_running = [&] {
    auto pods = client_->List(res::Pods(), ns_, by_app);
    if (!pods.ok()) return -1;
    running.clear();
    int live = 0;
    for (const Value& p : pods->items().GetArray()) {
      if (json::Find(p, {"metadata", "deletionTimestamp"}) != nullptr) continue;
      ++live;
      if (Str(p, {"status", "phase"}) != "Running") continue;
      EXPECT_EQ(Str(p, {"spec", "nodeName"}), Annotations(p)["labkube.io/node"]);
      running.push_back(Annotations(p)["labkube.io/claim"]);
    }
    return live;
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return count_running() == kTypeSlots && static_cast<int>(running.size()) == kTypeSlots;
      },
      kConverge))
      << running.size() << " running";
  EXPECT_NE(running[0], running[1]) << "two pods with one claim";
  EXPECT_FALSE(WaitFor([&] { return count_running() != kTypeSlots; }, absl::Seconds(3)))
      << "the Deployment got more pods than free slots";
  EXPECT_TRUE(WaitUsage({0, kTypeSlots}));
}

TEST_F(InjectorTest, OtherPodsAreLeftAlone) {
  ASSERT_TRUE(WaitUsage({kTypeSlots, 0}));
  std::vector<std::string> reservations = ReservationPods();
  auto [status, metrics] = InjectorGet("/metrics");
  ASSERT_EQ(status, 200);
  double admissions = AdmissionsTotal(metrics);
  std::string labels =
      absl::StrCat(", labkube.io/machine-group: ", group_, ", labkube.io/machine-type: ", kType);

  // Not a guest (group and type labels, but no pod-role) in an enabled namespace.
  rapidjson::Document plain =
      CreatedObject(KubectlCreate(PlainPodYaml(ns_, "not-a-guest", labels)));
  ASSERT_TRUE(plain.IsObject());
  ExpectUntouched(plain);
  // A guest in a namespace that is not enabled.
  std::string off = CreateNamespace("it-inj-off", /*enabled=*/false);
  rapidjson::Document guest =
      CreatedObject(KubectlCreate(GuestPodYaml(off, "guest", group_, kType)));
  ASSERT_TRUE(guest.IsObject());
  ExpectUntouched(guest);

  // Once the scheduler has seen them run (on the untainted node), nothing is consumed.
  WaitRunning(ns_, "not-a-guest");
  WaitRunning(off, "guest");
  EXPECT_TRUE(StaysUsage({kTypeSlots, 0}, absl::Seconds(3)));
  EXPECT_EQ(ReservationPods(), reservations);
  std::tie(status, metrics) = InjectorGet("/metrics");
  EXPECT_EQ(AdmissionsTotal(metrics), admissions) << "the injector was asked";
}

TEST_F(InjectorTest, ServerDryRunConsumesNothing) {
  ASSERT_TRUE(WaitUsage({kTypeSlots, 0}));
  std::vector<std::string> reservations = ReservationPods();
  auto type = Availability();
  ASSERT_TRUE(type.ok()) << type.status();

  rapidjson::Document pod =
      CreatedObject(KubectlCreate(GuestPodYaml(ns_, "dry", group_, kType), {"--dry-run=server"}));
  ASSERT_TRUE(pod.IsObject());
  // The answer shows what the pod would get ...
  EXPECT_EQ(Annotations(pod)["labkube.io/claim"], "dry-run");
  ExpectTypeResources(pod["spec"]["containers"][0], type->spec());
  // ... and nothing was created or consumed.
  EXPECT_TRUE(absl::IsNotFound(GetPod(ns_, "dry").status()));
  EXPECT_TRUE(StaysUsage({kTypeSlots, 0}, absl::Seconds(3)));
  EXPECT_EQ(ReservationPods(), reservations);
}

TEST_F(InjectorTest, SchedulerDownRefusesGuestsOnlyAndRecovers) {
  ASSERT_NO_FATAL_FAILURE(KillScheduler());

  absl::Time start = absl::Now();
  CommandResult refused = KubectlCreate(GuestPodYaml(ns_, "guest", group_, kType));
  absl::Duration took = absl::Now() - start;
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "admission webhook \"injector.labkube.io\" denied"))
      << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "labkube is unavailable")) << refused.output;
  EXPECT_LT(took, kWebhookTimeout) << refused.output;
  EXPECT_TRUE(absl::IsNotFound(GetPod(ns_, "guest").status()));

  CommandResult plain = KubectlCreate(PlainPodYaml(ns_, "not-a-guest", ""));
  EXPECT_EQ(plain.exit_code, 0) << plain.output;

  // The scheduler comes back where it was: the injector reaches it again without a restart.
  ASSERT_NO_FATAL_FAILURE(RestartScheduler());
  CommandResult again;
  EXPECT_TRUE(WaitFor(
      [&] {
        again = KubectlCreate(GuestPodYaml(ns_, "guest", group_, kType));
        return again.exit_code == 0;
      },
      kConverge, absl::Milliseconds(500)))
      << again.output;
  rapidjson::Document running = WaitRunning(ns_, "guest");
  ASSERT_TRUE(running.IsObject());
  EXPECT_EQ(Str(running, {"spec", "nodeName"}), Annotations(running)["labkube.io/node"]);
}

}  // namespace
}  // namespace labkube::it
