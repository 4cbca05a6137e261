// End to end, as lab members use it: labctl, grpcurl and kubectl against the local lab (every
// labkube service on a real control plane with kwok GPU nodes). Two fresh members per run.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "tests/e2e/expired_token.h"
#include "tests/e2e/lab_fixture.h"
#include "tests/integration/harness.h"

namespace labkube::e2e {
namespace {

namespace json = kube::json;

struct Member {
  std::string name;
  std::unique_ptr<Labctl> labctl;
  std::string ns() const { return "lab-" + name; }
};

struct Lab {
  LabEnv env;
  std::unique_ptr<Labctl> admin;
  Member a, b;
};

// Logs the admin in and creates members a and b with passwords of their own.
absl::StatusOr<std::unique_ptr<Lab>> SetUpLab() {
  auto lab = std::make_unique<Lab>();
  auto env = LabEnv::FromEnvironment();
  if (!env.ok()) return env.status();
  lab->env = *env;
  auto admin_account = ReadAccount(lab->env.credentials, "admin");
  if (!admin_account.ok()) return admin_account.status();
  lab->admin = std::make_unique<Labctl>(lab->env, NewDir("admin"));
  if (absl::Status s = lab->admin->Login(*admin_account); !s.ok()) return s;
  for (Member* m : {&lab->a, &lab->b}) {
    m->name = it::UniqueName("e2e");
    std::string password = it::UniqueName("pw-long-enough");
    auto r = lab->admin->Run({"admin", "member", "create", m->name, "--password-stdin"},
                             password + "\n");
    if (!r.ok()) return r.status();
    if (r->exit_code != 0) return absl::InternalError(r->Describe());
    m->labctl = std::make_unique<Labctl>(lab->env, NewDir(m->name));
    if (absl::Status s = m->labctl->Login({m->name, password}); !s.ok()) return s;
  }
  return lab;
}

class LabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lab = SetUpLab();
    if (lab.ok()) {
      lab_ = std::move(lab).value().release();
    } else {
      setup_error_ = new std::string(lab.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    if (lab_ == nullptr) return;
    for (Member* m : {&lab_->a, &lab_->b}) {
      auto r = lab_->admin->Run({"admin", "member", "delete", m->name, "--delete-namespace"});
      if (!r.ok() || r->exit_code != 0) ADD_FAILURE() << "cleanup of " << m->name << " failed";
    }
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  }

  static const LabEnv& env() { return lab_->env; }
  static Member& a() { return lab_->a; }
  static Member& b() { return lab_->b; }
  static std::string AccessToken(const Member& m) {
    auto c = m.labctl->StoredCredentials();
    return c.ok() ? std::string(json::GetString(*c, {"accessToken"})) : "";
  }

  static Lab* lab_;
  static std::string* setup_error_;
};

Lab* LabTest::lab_ = nullptr;
std::string* LabTest::setup_error_ = nullptr;

// Usage of one machine type from `labctl machines -o json`.
struct Usage {
  int maximum = -1, reserved = -1, used = -1, free = -1, gpus = 0;
};
std::optional<Usage> MachineUsage(const Labctl& labctl, const std::string& type) {
  auto list = labctl.Json({"machines"});
  if (!list.ok() || !list->IsArray()) return std::nullopt;
  for (const auto& m : list->GetArray()) {
    if (json::GetString(m, {"name"}) != type) continue;
    return Usage{static_cast<int>(json::GetInt(m, {"maximum"})),
                 static_cast<int>(json::GetInt(m, {"reserved"})),
                 static_cast<int>(json::GetInt(m, {"used"})),
                 static_cast<int>(json::GetInt(m, {"free"})),
                 static_cast<int>(json::GetInt(m, {"gpu_count"}))};
  }
  return std::nullopt;
}

// The first machine type with GPUs and a free slot.
std::string FreeGpuType(const Labctl& labctl) {
  auto list = labctl.Json({"machines"});
  if (!list.ok() || !list->IsArray()) return "";
  for (const auto& m : list->GetArray()) {
    if (json::GetInt(m, {"gpu_count"}) > 0 && json::GetInt(m, {"free"}) > 0) {
      return std::string(json::GetString(m, {"name"}));
    }
  }
  return "";
}

// The pod of workspace `name` in `ns`, or nullopt.
std::optional<rapidjson::Document> WorkspacePod(const LabEnv& env, const std::string& ns,
                                                const std::string& name) {
  auto r = Kubectl(env, {"get", "pods", "-n", ns, "-l", "labkube.io/workspace=" + name, "-o", "json"});
  if (!r.ok() || r->exit_code != 0) return std::nullopt;
  auto doc = json::Parse(r->out);
  if (!doc.ok() || !(*doc)["items"].IsArray() || (*doc)["items"].Empty()) return std::nullopt;
  rapidjson::Document pod;
  pod.CopyFrom((*doc)["items"][0], pod.GetAllocator());
  return pod;
}

std::vector<std::string> ClaimNames(const rapidjson::Value& pod) {
  std::vector<std::string> claims;
  const rapidjson::Value* volumes = json::Find(pod, {"spec", "volumes"});
  if (volumes == nullptr || !volumes->IsArray()) return claims;
  for (const auto& v : volumes->GetArray()) {
    std::string_view claim = json::GetString(v, {"persistentVolumeClaim", "claimName"});
    if (!claim.empty()) claims.emplace_back(claim);
  }
  return claims;
}

// What labkube made for a member that is still there (labelled objects, any kind).
std::string LeftOver(const LabEnv& env, const std::string& ns, const std::string& selector) {
  auto r = Kubectl(env, {"get", "deployments,replicasets,pods,services,ingresses,secrets", "-n", ns,
                         "-l", selector, "-o", "name"});
  if (!r.ok()) return r.status().ToString();
  return r->exit_code == 0 ? r->out : r->Describe();
}

TEST_F(LabTest, NewMemberRunsAJupyterWorkspaceOnAGpuAndLeavesNothingBehind) {
  const Labctl& labctl = *a().labctl;
  const std::string type = FreeGpuType(labctl);
  ASSERT_FALSE(type.empty()) << "no GPU machine type with a free slot";
  std::optional<Usage> before = MachineUsage(labctl, type);
  ASSERT_TRUE(before.has_value());
  ASSERT_GT(before->free, 0);

  auto created = labctl.Run({"storage", "create", "--size", "10Gi"});
  ASSERT_TRUE(created.ok() && created->exit_code == 0) << created->Describe();
  ASSERT_TRUE(Eventually(
      [&] {
        auto list = labctl.Json({"storage", "list"});
        if (!list.ok() || !list->IsArray() || list->Size() != 2) return false;
        for (const auto& v : list->GetArray()) {
          if (json::GetString(v, {"phase"}) != "Bound") return false;
        }
        return true;
      },
      absl::Seconds(60)))
      << labctl.Run({"storage", "list"})->Describe();

  auto started = labctl.Run({"ide", "start", "nb", "--kind", "jupyterlab", "--machine-type", type,
                             "--timeout", "120"},
                            "", absl::Seconds(150));
  ASSERT_TRUE(started.ok() && started->exit_code == 0) << started->Describe();
  EXPECT_TRUE(absl::StrContains(started->out, "http")) << started->Describe();
  EXPECT_FALSE(absl::StrContains(started->err, "no storage")) << started->Describe();

  auto described = labctl.Json({"ide", "describe", "nb"});
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(json::GetString(*described, {"phase"}), "running");
  const std::string node(json::GetString(*described, {"node"}));
  EXPECT_FALSE(node.empty());

  std::optional<rapidjson::Document> pod = WorkspacePod(env(), a().ns(), "nb");
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(json::GetString(*pod, {"spec", "nodeName"}), node);
  EXPECT_EQ(json::GetString(*pod, {"status", "phase"}), "Running");
  const rapidjson::Value& container = (*pod)["spec"]["containers"][0];
  EXPECT_EQ(json::GetString(container, {"resources", "limits", "nvidia.com/gpu"}),
            std::to_string(before->gpus));
  std::vector<std::string> claims = ClaimNames(*pod);
  EXPECT_NE(std::find(claims.begin(), claims.end(), "labkube-cephfs"), claims.end());
  EXPECT_NE(std::find(claims.begin(), claims.end(), "labkube-nfs"), claims.end());
  auto node_gpus = Kubectl(env(), {"get", "node", node, "-o",
                                   "jsonpath={.status.allocatable.nvidia\\.com/gpu}"});
  ASSERT_TRUE(node_gpus.ok());
  EXPECT_GE(std::atoi(node_gpus->out.c_str()), before->gpus) << "not a GPU node: " << node;

  EXPECT_TRUE(Eventually(
      [&] {
        auto now = MachineUsage(labctl, type);
        return now.has_value() && now->used == before->used + 1;
      },
      absl::Seconds(30)))
      << labctl.Run({"machines"})->Describe();

  // The volumes are in use: deleting is refused, growing works, shrinking is refused.
  auto in_use = labctl.Run({"storage", "delete", "--yes"});
  ASSERT_TRUE(in_use.ok());
  EXPECT_EQ(in_use->exit_code, 2) << in_use->Describe();
  EXPECT_TRUE(absl::StrContains(in_use->err, "nb")) << in_use->Describe();
  auto grow = labctl.Run({"storage", "resize", "--size", "20Gi", "--volume", "cephfs"});
  ASSERT_TRUE(grow.ok() && grow->exit_code == 0) << grow->Describe();
  auto shrink = labctl.Run({"storage", "resize", "--size", "5Gi", "--volume", "cephfs"});
  ASSERT_TRUE(shrink.ok());
  EXPECT_EQ(shrink->exit_code, 2) << shrink->Describe();
  auto pvc_size = Kubectl(env(), {"get", "pvc", "labkube-cephfs", "-n", a().ns(), "-o",
                                  "jsonpath={.spec.resources.requests.storage}"});
  ASSERT_TRUE(pvc_size.ok());
  EXPECT_EQ(pvc_size->out, "20Gi") << pvc_size->Describe();

  auto stopped = labctl.Run({"ide", "stop", "nb"});
  ASSERT_TRUE(stopped.ok() && stopped->exit_code == 0) << stopped->Describe();
  EXPECT_TRUE(Eventually(
      [&] {
        auto now = MachineUsage(labctl, type);
        return now.has_value() && now->used == before->used && now->reserved == before->reserved;
      },
      absl::Seconds(60)))
      << labctl.Run({"machines"})->Describe();
  EXPECT_TRUE(Eventually([&] { return LeftOver(env(), a().ns(), "labkube.io/workspace").empty(); },
                         absl::Seconds(60)))
      << LeftOver(env(), a().ns(), "labkube.io/workspace");

  auto deleted = labctl.Run({"storage", "delete", "--yes"});
  ASSERT_TRUE(deleted.ok() && deleted->exit_code == 0) << deleted->Describe();
  EXPECT_TRUE(Eventually(
      [&] {
        auto pvcs = Kubectl(env(), {"get", "pvc", "-n", a().ns(), "-o", "name"});
        return pvcs.ok() && pvcs->exit_code == 0 && pvcs->out.empty();
      },
      absl::Seconds(60)));
}

// The GPU type with the fewest slots, all of them free (so the test can fill it).
std::string SmallestFreeGpuType(const Labctl& labctl) {
  auto list = labctl.Json({"machines"});
  if (!list.ok() || !list->IsArray()) return "";
  std::string best;
  int64_t best_free = 0;
  for (const auto& m : list->GetArray()) {
    int64_t free = json::GetInt(m, {"free"});
    if (json::GetInt(m, {"gpu_count"}) == 0 || free == 0 ||
        free != json::GetInt(m, {"maximum"}) || json::GetInt(m, {"waiting"}) != 0) {
      continue;
    }
    if (best.empty() || free < best_free) {
      best = std::string(json::GetString(m, {"name"}));
      best_free = free;
    }
  }
  return best;
}

// The caller's place in the line of `type` by `labctl queue` (0 when not in line).
int PlaceInLine(const Labctl& labctl, const std::string& type) {
  auto mine = labctl.Json({"queue"});
  if (!mine.ok() || !mine->IsArray()) return 0;
  for (const auto& e : mine->GetArray()) {
    if (json::GetString(e, {"machine_type"}) == type) return json::GetInt(e, {"position"});
  }
  return 0;
}

TEST_F(LabTest, AFullGpuTypeQueuesTheNextWorkspaceUntilOneStops) {
  const Labctl& filler = *b().labctl;
  const Labctl& waiter = *a().labctl;
  const std::string type = SmallestFreeGpuType(filler);
  ASSERT_FALSE(type.empty()) << "no GPU machine type with every slot free";
  std::optional<Usage> before = MachineUsage(filler, type);
  ASSERT_TRUE(before.has_value());
  std::vector<std::string> fillers;
  for (int i = 0; i < before->free; ++i) {
    fillers.push_back(absl::StrCat("fill", i));
    auto r = filler.Run({"ide", "start", fillers.back(), "--kind", "jupyterlab", "--machine-type",
                         type, "--timeout", "120"},
                        "", absl::Seconds(150));
    ASSERT_TRUE(r.ok() && r->exit_code == 0) << r->Describe();
  }
  ASSERT_TRUE(Eventually(
      [&] {
        auto now = MachineUsage(filler, type);
        return now.has_value() && now->free == 0;
      },
      absl::Seconds(30)))
      << filler.Run({"machines"})->Describe();

  // One more: it waits in line (first), and `labctl ide start` says so while it waits.
  std::optional<CommandResult> started;
  std::thread start([&] {
    auto r = waiter.Run({"ide", "start", "late", "--kind", "jupyterlab", "--machine-type", type,
                         "--timeout", "240"},
                        "", absl::Seconds(270));
    if (r.ok()) started = *r;
  });
  EXPECT_TRUE(Eventually([&] { return PlaceInLine(waiter, type) == 1; }, absl::Seconds(60)))
      << waiter.Run({"queue"})->Describe() << waiter.Run({"ide", "describe", "late"})->Describe();
  auto line = filler.Run({"queue", "--machine-type", type});
  ASSERT_TRUE(line.ok());
  EXPECT_TRUE(absl::StrContains(line->out, a().name)) << line->Describe();
  EXPECT_FALSE(absl::StrContains(line->out, "ws-late-")) << "b sees a's pod: " << line->Describe();
  auto described = waiter.Json({"ide", "describe", "late"});
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(json::GetString(*described, {"phase"}), "waiting");
  EXPECT_EQ(json::GetString(*described, {"reason"}), "InLine");
  EXPECT_EQ(json::GetInt(*described, {"queue_position"}), 1);
  auto columns = Kubectl(env(), {"get", "workspaces", "-n", a().ns()});
  ASSERT_TRUE(columns.ok());
  EXPECT_TRUE(absl::StrContains(columns->out, "IN LINE")) << columns->Describe();

  // A slot frees: the waiting workspace gets it and runs.
  auto stopped = filler.Run({"ide", "stop", fillers.front()});
  ASSERT_TRUE(stopped.ok() && stopped->exit_code == 0) << stopped->Describe();
  start.join();
  ASSERT_TRUE(started.has_value());
  std::cerr << "labctl ide start while in line:\n" << started->err;  // kept in test.log
  EXPECT_EQ(started->exit_code, 0) << started->Describe();
  EXPECT_TRUE(absl::StrContains(started->err, absl::StrCat("waiting for ", type,
                                                            ": 1st of 1 in line")))
      << started->Describe();
  EXPECT_TRUE(absl::StrContains(started->err, "running on ")) << started->Describe();
  EXPECT_TRUE(absl::StrContains(started->out, "http")) << started->Describe();
  EXPECT_EQ(PlaceInLine(waiter, type), 0);

  auto late_stopped = waiter.Run({"ide", "stop", "late"});
  EXPECT_TRUE(late_stopped.ok() && late_stopped->exit_code == 0) << late_stopped->Describe();
  for (size_t i = 1; i < fillers.size(); ++i) {
    auto r = filler.Run({"ide", "stop", fillers[i]});
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << r->Describe();
  }
  EXPECT_TRUE(Eventually(
      [&] {
        auto now = MachineUsage(filler, type);
        return now.has_value() && now->free == before->free;
      },
      absl::Seconds(90)))
      << filler.Run({"machines"})->Describe();
}

TEST_F(LabTest, GrpcurlListsDescribesAndCallsTheGateway) {
  auto list = Grpcurl(env(), "", {env().gateway, "list"});
  ASSERT_TRUE(list.ok() && list->exit_code == 0) << list->Describe();
  EXPECT_TRUE(absl::StrContains(list->out, "labkube.gateway.v1alpha1.Gateway")) << list->out;
  EXPECT_TRUE(absl::StrContains(list->out, "grpc.health.v1.Health")) << list->out;

  auto describe = Grpcurl(env(), "", {env().gateway, "describe", "labkube.gateway.v1alpha1.Gateway"});
  ASSERT_TRUE(describe.ok() && describe->exit_code == 0) << describe->Describe();
  EXPECT_TRUE(absl::StrContains(describe->out, "rpc StartWorkspace")) << describe->out;

  auto health = Grpcurl(env(), "", {env().gateway, "grpc.health.v1.Health/Check"});
  ASSERT_TRUE(health.ok() && health->exit_code == 0) << health->Describe();
  EXPECT_TRUE(absl::StrContains(health->out, "SERVING")) << health->out;

  auto call = Grpcurl(env(), AccessToken(a()),
                      {"-d", "{}", env().gateway, "labkube.gateway.v1alpha1.Gateway/ListMachineTypes"});
  ASSERT_TRUE(call.ok() && call->exit_code == 0) << call->Describe();
  auto doc = json::Parse(call->out);
  ASSERT_TRUE(doc.ok()) << call->out;
  const rapidjson::Value* types = json::Find(*doc, {"machine_types"});  // grpcurl: proto names
  ASSERT_TRUE(types != nullptr && types->IsArray()) << call->out;
  EXPECT_GT(types->Size(), 0u);

  auto whoami = Grpcurl(env(), AccessToken(a()),
                        {"-d", "{}", env().gateway, "labkube.gateway.v1alpha1.Gateway/WhoAmI"});
  ASSERT_TRUE(whoami.ok() && whoami->exit_code == 0) << whoami->Describe();
  EXPECT_TRUE(absl::StrContains(whoami->out, a().name)) << whoami->out;
}

TEST_F(LabTest, CallsWithoutAValidTokenOrForAnotherMemberAreRefused) {
  const std::string method = "labkube.gateway.v1alpha1.Gateway/ListWorkspaces";
  auto none = Grpcurl(env(), "", {"-d", "{}", env().gateway, method});
  ASSERT_TRUE(none.ok());
  EXPECT_NE(none->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(none->err, "Code: Unauthenticated")) << none->Describe();
  EXPECT_TRUE(absl::StrContains(none->err, "labctl login")) << none->Describe();

  auto garbage = Grpcurl(env(), "not-a-token", {"-d", "{}", env().gateway, method});
  ASSERT_TRUE(garbage.ok());
  EXPECT_TRUE(absl::StrContains(garbage->err, "Code: Unauthenticated")) << garbage->Describe();

  auto expired = ExpiredCopy(AccessToken(a()), env().state + "/pki/sa.key",
                             absl::Now() - absl::Minutes(5));
  ASSERT_TRUE(expired.ok()) << expired.status();
  auto late = Grpcurl(env(), *expired, {"-d", "{}", env().gateway, method});
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(absl::StrContains(late->err, "Code: Unauthenticated")) << late->Describe();
  EXPECT_TRUE(absl::StrContains(late->err, "expired")) << late->Describe();

  // The member's own ServiceAccount token, as every pod in its namespace has it mounted: the
  // API server accepts it, the gateway does not (it was not issued for the gateway's audience).
  auto pod_token = Kubectl(env(), {"create", "token", a().name, "-n", a().ns()});
  ASSERT_TRUE(pod_token.ok() && pod_token->exit_code == 0) << pod_token.status();
  auto as_pod = Grpcurl(env(), std::string(absl::StripAsciiWhitespace(pod_token->out)),
                        {"-d", "{}", env().gateway, method});
  ASSERT_TRUE(as_pod.ok());
  EXPECT_TRUE(absl::StrContains(as_pod->err, "Code: Unauthenticated")) << as_pod->Describe();
  EXPECT_TRUE(absl::StrContains(as_pod->err, "audience")) << as_pod->Describe();

  auto foreign = Grpcurl(env(), AccessToken(b()),
                         {"-d", absl::StrCat(R"({"member":")", a().name, R"(","name":"nb"})"),
                          env().gateway, "labkube.gateway.v1alpha1.Gateway/DescribeWorkspace"});
  ASSERT_TRUE(foreign.ok());
  EXPECT_TRUE(absl::StrContains(foreign->err, "Code: PermissionDenied")) << foreign->Describe();

  auto cli = b().labctl->Run({"ide", "list", "--member", a().name});
  ASSERT_TRUE(cli.ok());
  EXPECT_EQ(cli->exit_code, 3) << cli->Describe();
  auto stranger = Labctl(env(), NewDir("nobody")).Run({"machines"});
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ(stranger->exit_code, 3) << stranger->Describe();
  EXPECT_TRUE(absl::StrContains(stranger->err, "labctl login")) << stranger->Describe();
}

TEST_F(LabTest, KubectlWithTheLabctlCredentialPluginOutlivesItsToken) {
  const Labctl& labctl = *b().labctl;
  auto kubeconfig = labctl.Run({"kubeconfig"});
  ASSERT_TRUE(kubeconfig.ok() && kubeconfig->exit_code == 0) << kubeconfig->Describe();
  EXPECT_FALSE(absl::StrContains(kubeconfig->out, AccessToken(b())));
  std::string path = labctl.config_dir() + "/kubeconfig";
  {
    std::ofstream out(path);
    out << kubeconfig->out;
  }
  auto get = [&] { return Kubectl(env(), {"get", "pods"}, path, labctl.Env()); };
  auto first = get();
  ASSERT_TRUE(first.ok() && first->exit_code == 0) << first->Describe();

  // The stored access token expires: a real token of b, re-signed with its expiry passed.
  auto stored = labctl.StoredCredentials();
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto expired = ExpiredCopy(AccessToken(b()), env().state + "/pki/sa.key",
                             absl::Now() - absl::Minutes(1));
  ASSERT_TRUE(expired.ok()) << expired.status();
  // Proof that the API server itself refuses it (so what follows is a refresh).
  auto token_form = labctl.Run({"kubeconfig", "--token"});
  ASSERT_TRUE(token_form.ok() && token_form->exit_code == 0) << token_form->Describe();
  std::string with_expired = token_form->out;
  size_t at = with_expired.find(AccessToken(b()));
  ASSERT_NE(at, std::string::npos);
  with_expired.replace(at, AccessToken(b()).size(), *expired);
  std::string expired_path = labctl.config_dir() + "/kubeconfig-expired";
  {
    std::ofstream out(expired_path);
    out << with_expired;
  }
  auto refused = Kubectl(env(), {"get", "pods"}, expired_path);
  ASSERT_TRUE(refused.ok());
  EXPECT_NE(refused->exit_code, 0) << "the API server took an expired token";
  EXPECT_TRUE(absl::StrContains(refused->err, "Unauthorized")) << refused->Describe();
  json::SetString(*stored, {"accessToken"}, *expired);
  json::SetString(*stored, {"accessTokenExpiry"},
                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Minutes(1),
                                   absl::UTCTimeZone()));
  ASSERT_TRUE(labctl.StoreCredentials(*stored).ok());

  auto after = get();
  ASSERT_TRUE(after.ok() && after->exit_code == 0) << after->Describe();
  EXPECT_NE(AccessToken(b()), *expired) << "labctl credential did not refresh";

  auto elsewhere = Kubectl(env(), {"get", "pods", "-n", a().ns()}, path, labctl.Env());
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->exit_code, 0);
  EXPECT_TRUE(absl::StrContains(elsewhere->err, "Forbidden")) << elsewhere->Describe();
}

}  // namespace
}  // namespace labkube::e2e
