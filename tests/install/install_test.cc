// labkube installed in the cluster as an admin installs it (tools/lab.sh: the kustomize base and
// the local-lab overlay, images imported into the real node's containerd): its pods run on the
// real node, survive the loss of the scheduler leader, a rolling restart of the webhook during a
// burst of guest creates, and the deletion of the webhook's serving Secret.
//
// Needs LABKUBE_KUBECONFIG and KUBECTL of that lab (`eval "$(tools/lab.sh env)"`). Guests are
// created with dryRun=All: the API server still calls the webhook (sideEffects NoneOnDryRun) and
// the scheduler answers a dry-run claim, so no slot is consumed and every answer shows whether
// the webhook was reachable.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "tests/integration/harness.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr char kSystem[] = "labkube-system";
constexpr const char* kDeployments[] = {"labkube-scheduler", "labkube-injector",
                                        "labkube-authenticator", "labkube-gateway"};

// How the API server answered one guest create.
enum class Answer { kAdmitted, kRefusedForCapacity, kWebhookUnavailable, kOther };

Answer Classify(const absl::Status& s) {
  if (s.ok()) return Answer::kAdmitted;
  absl::string_view m = s.message();
  if (absl::StrContains(m, "failed calling webhook") || absl::StrContains(m, "no endpoints") ||
      absl::StrContains(m, "connection refused") || absl::StrContains(m, "labkube is unavailable")) {
    return Answer::kWebhookUnavailable;
  }
  if (absl::StrContains(m, "no free")) return Answer::kRefusedForCapacity;
  return Answer::kOther;
}

class InstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto client = ClusterClient();
    if (!client.ok()) return;
    client_ = std::move(*client).release();
    ns_ = new std::string(UniqueName("it-install"));
    rapidjson::Document ns = json::NewObject("v1", "Namespace", "", *ns_);
    json::SetString(ns, {"metadata", "labels", "labkube.io/inject-resource"}, "enabled");
    json::SetString(ns, {"metadata", "labels", "pod-security.kubernetes.io/enforce"}, "baseline");
    (void)client_->Create(res::Namespaces(), "", ns);
  }
  static void TearDownTestSuite() {
    if (client_ != nullptr && ns_ != nullptr) (void)client_->Delete(res::Namespaces(), "", *ns_);
  }
  void SetUp() override {
    if (client_ == nullptr) GTEST_SKIP() << "no LABKUBE_KUBECONFIG: run `eval \"$(tools/lab.sh env)\"`";
    for (const char* d : kDeployments) ASSERT_TRUE(WaitAvailable(d)) << d;
  }

  static ::testing::AssertionResult WaitAvailable(const std::string& deployment,
                                                  absl::Duration timeout = absl::Seconds(120)) {
    std::string last;
    bool ok = WaitFor([&] {
      auto d = client_->Get(res::Deployments(), kSystem, deployment);
      if (!d.ok()) return last = d.status().ToString(), false;
      int64_t want = json::GetInt(*d, {"spec", "replicas"}, 1);
      int64_t updated = json::GetInt(*d, {"status", "updatedReplicas"});
      int64_t available = json::GetInt(*d, {"status", "availableReplicas"});
      int64_t total = json::GetInt(*d, {"status", "replicas"});
      last = absl::StrCat("updated ", updated, " available ", available, " of ", want);
      return updated == want && available == want && total == want &&
             json::GetInt(*d, {"status", "observedGeneration"}) ==
                 json::GetInt(*d, {"metadata", "generation"});
    }, timeout, absl::Milliseconds(250));
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << deployment << " not available: " << last;
  }

  // A guest of gpu-machines/rtx3090-x1, created with dryRun=All.
  static absl::Status DryRunGuest(const std::string& name) {
    rapidjson::Document pod = json::NewObject("v1", "Pod", *ns_, name);
    json::SetString(pod, {"metadata", "labels", "labkube.io/pod-role"}, "guest");
    json::SetString(pod, {"metadata", "labels", "labkube.io/machine-group"}, "gpu-machines");
    json::SetString(pod, {"metadata", "labels", "labkube.io/machine-type"}, "rtx3090-x1");
    auto c = json::Parse(R"([{"name":"main","image":"registry.k8s.io/pause:3.10"}])");
    json::SetValue(pod, {"spec", "containers"}, *c);
    kube::WriteOptions o;
    o.dry_run = true;
    return client_->Create(res::Pods(), *ns_, pod, o).status();
  }

  static std::string LeaseHolder() {
    auto lease = client_->Get(res::Leases(), kSystem, "labkube-scheduler");
    return lease.ok() ? std::string(json::GetString(*lease, {"spec", "holderIdentity"})) : "";
  }

  static kube::RestClient* client_;
  static std::string* ns_;
};

kube::RestClient* InstallTest::client_ = nullptr;
std::string* InstallTest::ns_ = nullptr;

TEST_F(InstallTest, LabkubeRunsInRestrictedPodsOnTheRealNode) {
  kube::ListOptions o;
  o.label_selector = "app.kubernetes.io/part-of=labkube";
  auto pods = client_->List(res::Pods(), kSystem, o);
  ASSERT_TRUE(pods.ok()) << pods.status();
  int running = 0;
  for (const rapidjson::Value& pod : pods->items().GetArray()) {
    if (json::GetString(pod, {"metadata", "labels", "labkube.io/pod-role"}) == "reservation") continue;
    std::string name(json::GetString(pod, {"metadata", "name"}));
    std::string node(json::GetString(pod, {"spec", "nodeName"}));
    auto n = client_->Get(res::Nodes(), "", node);
    ASSERT_TRUE(n.ok()) << name << " on " << node;
    EXPECT_EQ(json::GetString(*n, {"metadata", "labels", "labkube.io/system-node"}), "true")
        << name << " runs on " << node << ", not the real node";
    EXPECT_EQ(json::GetString(*n, {"metadata", "annotations", "kwok.x-k8s.io/node"}), "")
        << "labkube's own pods never run on kwok nodes";
    for (const rapidjson::Value& c : (*json::Find(pod, {"spec", "containers"})).GetArray()) {
      EXPECT_TRUE(json::GetBool(c, {"securityContext", "readOnlyRootFilesystem"})) << name;
      EXPECT_FALSE(json::GetBool(c, {"securityContext", "allowPrivilegeEscalation"}, true)) << name;
    }
    EXPECT_TRUE(json::GetBool(pod, {"spec", "securityContext", "runAsNonRoot"})) << name;
    running += json::GetString(pod, {"status", "phase"}) == "Running";
  }
  EXPECT_GE(running, 7) << "2 schedulers, 2 injectors, authenticator, gateway (and more)";
  EXPECT_TRUE(DryRunGuest(UniqueName("probe")).ok()) << "the webhook is called through its Service";
}

TEST_F(InstallTest, TheOtherSchedulerTakesOverWhenTheLeaderPodIsKilled) {
  std::string leader = LeaseHolder();
  ASSERT_FALSE(leader.empty());
  ASSERT_TRUE(Kubectl({"-n", kSystem, "delete", "pod", leader, "--grace-period=0", "--force",
                       "--wait=false"})
                  .ok());
  const absl::Time killed = absl::Now();
  std::string next;
  ASSERT_TRUE(WaitFor([&] {
    next = LeaseHolder();
    return !next.empty() && next != leader && DryRunGuest(UniqueName("after")).ok();
  }, absl::Seconds(20), absl::Milliseconds(200)))
      << "no other scheduler took over and answered claims within 20 s (holder " << next << ")";
  absl::Duration took = absl::Now() - killed;
  RecordProperty("takeover_ms", static_cast<int>(absl::ToInt64Milliseconds(took)));
  std::printf("scheduler takeover after the leader pod was killed: %.1f s (%s -> %s)\n",
              absl::ToDoubleSeconds(took), leader.c_str(), next.c_str());
  EXPECT_TRUE(WaitAvailable("labkube-scheduler"));
}

TEST_F(InstallTest, ARollingRestartOfTheWebhookRefusesNoGuest) {
  std::atomic<bool> rolled{false};
  absl::Mutex mu;
  std::vector<std::string> unavailable;
  std::atomic<int> answers[4] = {0, 0, 0, 0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; !rolled.load() || answers[0] + answers[1] + answers[2] + answers[3] < 200; ++i) {
        absl::Status s = DryRunGuest(absl::StrCat("burst-", w, "-", i));
        Answer a = Classify(s);
        ++answers[static_cast<int>(a)];
        if (a == Answer::kWebhookUnavailable || a == Answer::kOther) {
          absl::MutexLock lock(&mu);
          if (unavailable.size() < 5) unavailable.push_back(std::string(s.message()));
        }
      }
    });
  }
  absl::StatusOr<std::string> restart =
      Kubectl({"-n", kSystem, "rollout", "restart", "deployment/labkube-injector"});
  absl::StatusOr<std::string> status = Kubectl(
      {"-n", kSystem, "rollout", "status", "deployment/labkube-injector", "--timeout=180s"});
  rolled = true;
  for (std::thread& t : workers) t.join();
  ASSERT_TRUE(restart.ok()) << restart.status();
  ASSERT_TRUE(status.ok()) << status.status();
  int total = answers[0] + answers[1] + answers[2] + answers[3];
  std::printf("guest creates during the injector's rollout: %d admitted, %d refused for capacity, "
              "%d webhook unavailable, %d other\n",
              answers[0].load(), answers[1].load(), answers[2].load(), answers[3].load());
  EXPECT_GE(total, 200);
  EXPECT_EQ(answers[2].load() + answers[3].load(), 0)
      << "first refusals: " << absl::StrJoin(unavailable, " | ");
}

TEST_F(InstallTest, ADeletedWebhookSecretIsMadeAgainAndGuestsKeepBeingAdmitted) {
  auto before = client_->Get(res::Secrets(), kSystem, "labkube-injector-tls");
  ASSERT_TRUE(before.ok()) << before.status();
  std::string old_uid(json::GetString(*before, {"metadata", "uid"}));
  ASSERT_TRUE(client_->Delete(res::Secrets(), kSystem, "labkube-injector-tls").ok());
  int refused = 0, admitted = 0;
  std::string again_uid;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline && (again_uid.empty() || admitted < 20)) {
    absl::Status s = DryRunGuest(UniqueName("tls"));
    s.ok() ? ++admitted : ++refused;
    auto again = client_->Get(res::Secrets(), kSystem, "labkube-injector-tls");
    if (again.ok()) again_uid = std::string(json::GetString(*again, {"metadata", "uid"}));
  }
  EXPECT_FALSE(again_uid.empty()) << "the Secret was not made again within 30 s";
  EXPECT_NE(again_uid, old_uid);
  EXPECT_EQ(refused, 0) << "guests refused while the webhook's Secret was re-made";
  auto mwc = client_->Get(res::MutatingWebhookConfigurations(), "", "labkube-injector");
  ASSERT_TRUE(mwc.ok());
  EXPECT_FALSE(json::GetString((*mwc)["webhooks"][0], {"clientConfig", "caBundle"}).empty());
}

}  // namespace
}  // namespace labkube::it
