// labctl's command layer in-process against an in-process gateway (services/gateway/testing:
// fake scheduler and authenticator over real gRPC, fake Kubernetes API).
#include "clients/cli/commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "clients/cli/config_store.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "clients/cli/output.h"
#include "services/gateway/testing/harness.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

struct Result {
  int code;
  std::string out;
  std::string err;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway::Options options;
    options.workspaces.watch_poll = absl::Milliseconds(20);
    auto h = gateway::testing::GatewayHarness::Start(options);
    ASSERT_TRUE(h.ok()) << h.status();
    h_ = std::move(h).value();
    h_->AddMember("alice", "alice-pw", false);
    h_->AddMember("root", "root-pw", true);
    h_->SetDefaultMachineTypes();
    const char* tmp = std::getenv("TEST_TMPDIR");
    static int counter = 0;
    home_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/home-" + std::to_string(++counter);
    env_ = {{"HOME", home_},
            {"LABCTL_CONFIG_DIR", home_ + "/cfg"},
            {"KUBECONFIG", home_ + "/kube/config"}};
  }

  Result Run(const std::string& command_line, const std::string& stdin_text = "") {
    std::vector<std::string> args = {"labctl"};
    for (absl::string_view a : absl::StrSplit(command_line, ' ', absl::SkipEmpty())) {
      args.emplace_back(a);
    }
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    Io io{in, out, err,
          [this](const std::string& k) -> std::optional<std::string> {
            auto it = env_.find(k);
            return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
          },
          nullptr};
    int code = RunLabctl(args, io);
    return {code, out.str(), err.str()};
  }

  Result Login(const std::string& who) {
    return Run("login --server " + h_->address() + " --insecure-plaintext --username " + who +
                   " --password-stdin",
               who + "-pw\n");
  }

  // Once the workspace's Deployment exists, adds its pod as Ready on gpu-1.
  void RunPodWhenCreated(const std::string& ws) {
    runner_ = std::thread([this, ws] {
      for (int i = 0; i < 5000; ++i) {
        if (h_->kube().Get(res::Deployments(), "lab-alice", "ws-" + ws).ok()) break;
        absl::SleepFor(absl::Milliseconds(2));
      }
      absl::SleepFor(absl::Milliseconds(300));  // so that labctl usually has to wait
      auto pod = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-)" + ws +
                             R"(-1-a","labels":{"app.kubernetes.io/managed-by":"labkube-gateway",
          "labkube.io/component":"workspace","labkube.io/user":"alice",
          "labkube.io/workspace":")" +
                             ws + R"("}},
          "spec":{"nodeName":"gpu-1"},"status":{"phase":"Running",
          "conditions":[{"type":"Ready","status":"True"}]}})");
      (void)h_->kube().Create(res::Pods(), "lab-alice", *pod);
    });
  }

  void TearDown() override {
    if (runner_.joinable()) runner_.join();
  }

  std::unique_ptr<gateway::testing::GatewayHarness> h_;
  std::string home_;
  std::map<std::string, std::string> env_;
  std::thread runner_;
};

TEST_F(CommandsTest, LoginStoresTheSessionPrivately) {
  Result r = Login("alice");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("Logged in to"), std::string::npos);
  struct stat st;
  ASSERT_EQ(stat((home_ + "/cfg/credentials.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  r = Run("whoami -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto who = json::Parse(r.out);
  ASSERT_TRUE(who.ok()) << r.out;
  EXPECT_EQ(json::GetString(*who, {"member"}), "alice");
  EXPECT_EQ(json::GetString(*who, {"namespace"}), "lab-alice");
  r = Run("logout");
  EXPECT_EQ(r.code, 0) << r.err;
  r = Run("whoami");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("not logged in"), std::string::npos);
}

TEST_F(CommandsTest, ExitCodesForUsageAuthAndServerErrors) {
  EXPECT_EQ(Run("machines").code, 3);  // not logged in
  Result bad = Run("login --server " + h_->address() +
                       " --insecure-plaintext --username alice "
                       "--password-stdin",
                   "wrong\n");
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.err.find("wrong username or password"), std::string::npos);
  EXPECT_EQ(Run("frobnicate").code, 2);
  EXPECT_NE(Run("frobnicate").err.find("unknown command \"frobnicate\""), std::string::npos);
  EXPECT_EQ(Run("ide start nb --kind vim --machine-type x").code, 2);
  ASSERT_EQ(Login("alice").code, 0);
  EXPECT_EQ(Run("storage create --size lots").code, 2);
  Result unknown = Run("ide start nb --kind jupyterlab --machine-type h100 --no-wait");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("valid: lab/rtx3090, lab/cpu"), std::string::npos) << unknown.err;
  EXPECT_EQ(Run("admin member list").code, 3);  // alice is not an admin
  Result help = Run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("ide"), std::string::npos);
  EXPECT_EQ(Run("storage resize --help").code, 0);
  EXPECT_EQ(Run("--server 10.0.0.1:1 --insecure-plaintext machines").code, 2);
}

TEST_F(CommandsTest, MachinesAsTableAndJson) {
  ASSERT_EQ(Login("alice").code, 0);
  Result r = Run("machines -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto list = json::Parse(r.out);
  ASSERT_TRUE(list.ok() && list->IsArray() && list->Size() == 2) << r.out;
  for (const char* key : {"group", "name", "maximum", "reserved", "used", "waiting", "free"}) {
    EXPECT_TRUE((*list)[0].HasMember(key)) << key;
  }
  EXPECT_EQ((*list)[0]["free"].GetInt(), 1);
  r = Run("machines");
  EXPECT_NE(r.out.find("lab/rtx3090   NVIDIA-GeForce-RTX-3090 x 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1/2"), std::string::npos) << r.out;
  EXPECT_NE(Run("machines -o yaml").out.find("- group: lab"), std::string::npos);
}

TEST_F(CommandsTest, StorageLifecycle) {
  ASSERT_EQ(Login("alice").code, 0);
  Result r = Run("storage list");
  EXPECT_NE(r.out.find("No storage yet"), std::string::npos) << r.out;
  r = Run("storage create --size 10Gi");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run("storage list -o json");
  auto list = json::Parse(r.out);
  ASSERT_TRUE(list.ok() && list->Size() == 2) << r.out;
  EXPECT_STREQ((*list)[0]["size"].GetString(), "10Gi");
  EXPECT_STREQ((*list)[0]["phase"].GetString(), "Pending");
  EXPECT_TRUE((*list)[0].HasMember("last_backup"));
  r = Run("storage delete", "nope\n");
  EXPECT_EQ(r.code, 2);
  r = Run("storage delete", "alice\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Run("storage delete --yes").code, 2);  // nothing left: NOT_FOUND
}

TEST_F(CommandsTest, IdeStartWaitsUntilRunningThenStops) {
  ASSERT_EQ(Login("alice").code, 0);
  RunPodWhenCreated("nb");
  Result r = Run("ide start nb --kind jupyterlab --machine-type rtx3090 --timeout 20");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("is running on gpu-1 with 1 x NVIDIA-GeForce-RTX-3090"), std::string::npos)
      << r.out << r.err;
  EXPECT_NE(r.out.find("URL:    https://labkube.local/alice/nb/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Token:"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("no storage is mounted"), std::string::npos) << r.err;
  r = Run("ide describe nb -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto w = json::Parse(r.out);
  ASSERT_TRUE(w.ok()) << r.out;
  EXPECT_EQ(json::GetString(*w, {"phase"}), "running");
  EXPECT_EQ(json::GetString(*w, {"node"}), "gpu-1");
  EXPECT_EQ(json::GetString(*w, {"gpu_model"}), "NVIDIA-GeForce-RTX-3090");
  r = Run("ide list");
  EXPECT_NE(r.out.find("nb    jupyterlab  lab/rtx3090"), std::string::npos) << r.out;
  EXPECT_EQ(Run("ide stop nb").code, 0);
  EXPECT_EQ(Run("ide describe nb").code, 2);
  EXPECT_NE(Run("ide list").out.find("No workspaces"), std::string::npos);
}

TEST_F(CommandsTest, IdeStartSaysWhatItIsWaitingFor) {
  ASSERT_EQ(Login("alice").code, 0);
  auto event = json::Parse(R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},
      "type":"Warning","reason":"FailedCreate","involvedObject":{"kind":"ReplicaSet","name":"ws-big-7d9"},
      "message":"admission webhook denied the request: labkube: no free rtx3090 slot in group lab: maximum 2, used 2"})");
  ASSERT_TRUE(h_->kube().Create(res::Events(), "lab-alice", *event).ok());
  Result r = Run("ide start big --kind codeserver --machine-type lab/rtx3090 --timeout 1");
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("waiting for a machine (lab/rtx3090): no free rtx3090 slot"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("keeps trying"), std::string::npos) << r.err;
  r = Run("ide start other --kind jupyterlab --machine-type cpu --no-wait -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::GetString(*json::Parse(r.out), {"phase"}), "starting");
}

TEST_F(CommandsTest, AdminsManageMembers) {
  ASSERT_EQ(Login("root").code, 0);
  Result r = Run("admin member create bob --quota requests.nvidia.com/gpu=2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Password for bob (shown once): "), std::string::npos) << r.out;
  r = Run("admin member create carol --password-stdin", "carol-pw\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = Run("admin member list -o json");
  auto list = json::Parse(r.out);
  ASSERT_TRUE(list.ok() && list->Size() == 4) << r.out;
  EXPECT_EQ(Run("admin member create bob").code, 2);  // ALREADY_EXISTS
  EXPECT_EQ(Run("admin member passwd bob --password-stdin", "new\n").code, 0);
  EXPECT_EQ(Run("admin member delete bob --delete-namespace").code, 0);
  EXPECT_EQ(h_->authenticator().Calls().back(), "DeleteMember bob +ns");
  EXPECT_EQ(Run("admin member create BAD").code, 2);
}

TEST_F(CommandsTest, KubeconfigAndCredentialPlugin) {
  ASSERT_EQ(Login("alice").code, 0);
  Result r = Run("kubeconfig");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("command: labctl"), std::string::npos) << r.out;
  r = Run("kubeconfig --merge");
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st;
  ASSERT_EQ(stat((home_ + "/kube/config").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  r = Run("credential");
  ASSERT_EQ(r.code, 0) << r.err;
  auto cred = json::Parse(r.out);
  ASSERT_TRUE(cred.ok()) << r.out;
  EXPECT_EQ(json::GetString(*cred, {"kind"}), "ExecCredential");
  EXPECT_EQ(json::GetString(*cred, {"apiVersion"}), "client.authentication.k8s.io/v1");
  EXPECT_EQ(json::GetString(*cred, {"status", "token"}), "token-alice");
  EXPECT_FALSE(json::GetString(*cred, {"status", "expirationTimestamp"}).empty());
}

TEST_F(CommandsTest, ExpiredAccessTokenIsRefreshed) {
  ASSERT_EQ(Login("alice").code, 0);
  ConfigStore store(home_ + "/cfg");
  Credentials c = *store.LoadCredentials();
  c.access_token = "stale";
  c.access_expiry = absl::Now() - absl::Minutes(1);
  ASSERT_TRUE(store.SaveCredentials(c).ok());
  Result r = Run("whoami");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(store.LoadCredentials()->access_token, "token-alice");
  // A token the gateway rejects is refreshed and the call retried.
  c = *store.LoadCredentials();
  c.access_token = "revoked";
  ASSERT_TRUE(store.SaveCredentials(c).ok());
  EXPECT_EQ(Run("machines").code, 0);
  // Without a usable refresh token the session is over.
  c.access_token = "revoked";
  c.refresh_token = "bogus";
  ASSERT_TRUE(store.SaveCredentials(c).ok());
  r = Run("machines");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("labctl login"), std::string::npos) << r.err;
}

TEST_F(CommandsTest, BashCompletion) {
  Result r = Run("completion bash");
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("complete -F _labctl labctl"), std::string::npos);
  EXPECT_NE(r.out.find("\" ide\") words=\"start stop list describe"), std::string::npos) << r.out;
  EXPECT_EQ(Run("completion fish").code, 2);
}

}  // namespace
}  // namespace labkube::cli

namespace labkube::cli {
namespace {

namespace sched = ::labkube::scheduler::v1alpha1;

sched::QueueEntry* AddEntry(sched::Queue& q, const std::string& ns, const std::string& pod,
                            const std::string& estimate = "") {
  sched::QueueEntry* e = q.add_entries();
  e->set_namespace_(ns);
  e->set_pod(pod);
  e->set_position(q.entries_size());
  e->set_waiting_since(Rfc3339(absl::Now() - absl::Minutes(5)));
  e->set_estimated_start(estimate);
  return e;
}

sched::Queue RtxLine() {
  sched::Queue q;
  q.set_group("lab");
  q.set_machine_type("rtx3090");
  q.set_estimate_note("no estimate: this machine type has no maxRuntime");
  return q;
}

int PlaceOf(gateway::testing::GatewayHarness& h, const std::string& ws) {
  static const kube::Resource kWorkspaces{"labkube.io", "v1alpha1", "workspaces", "Workspace"};
  auto w = h.kube().Get(kWorkspaces, "lab-alice", ws);
  return w.ok() ? static_cast<int>(json::GetInt(*w, {"status", "queue", "position"})) : 0;
}

bool PollUntil(const std::function<bool()>& done) {
  for (absl::Time end = absl::Now() + absl::Seconds(10); absl::Now() < end;) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

TEST_F(CommandsTest, IdeStartWaitsInLineThenRuns) {
  ASSERT_EQ(Login("alice").code, 0);
  const std::string pod = "ws-nb-1-a";
  runner_ = std::thread([this, pod] {
    if (!PollUntil([&] { return h_->kube().Get(res::Deployments(), "lab-alice", "ws-nb").ok(); }))
      return;
    sched::Queue q = RtxLine();
    AddEntry(q, "lab-bob", "train-1");
    AddEntry(q, "lab-alice", pod);
    AddEntry(q, "lab-carol", "x");
    h_->scheduler().SetQueue(q);
    auto gated = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + pod +
                             R"(","labels":{"app.kubernetes.io/managed-by":"labkube-gateway",
        "labkube.io/component":"workspace","labkube.io/user":"alice","labkube.io/workspace":"nb"},
        "annotations":{"labkube.io/waiting":"lab/rtx3090"}},
        "spec":{"schedulingGates":[{"name":"labkube.io/queue"}]},"status":{"phase":"Pending"}})");
    (void)h_->kube().Create(res::Pods(), "lab-alice", *gated);
    PollUntil([&] { return PlaceOf(*h_, "nb") == 2; });
    absl::SleepFor(absl::Milliseconds(500));  // labctl polls every 20 ms: let it see this place
    q = RtxLine();
    AddEntry(q, "lab-alice", pod, Rfc3339(absl::Now() + absl::Hours(1)));
    AddEntry(q, "lab-carol", "x");
    h_->scheduler().SetQueue(q);
    PollUntil([&] { return PlaceOf(*h_, "nb") == 1; });
    absl::SleepFor(absl::Milliseconds(500));
    h_->scheduler().SetQueue(RtxLine());
    (void)h_->kube().Delete(res::Pods(), "lab-alice", pod, {});
    auto ready = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + pod +
                             R"(","labels":{"app.kubernetes.io/managed-by":"labkube-gateway",
        "labkube.io/component":"workspace","labkube.io/user":"alice","labkube.io/workspace":"nb"}},
        "spec":{"nodeName":"gpu-1"},"status":{"phase":"Running",
        "conditions":[{"type":"Ready","status":"True"}]}})");
    (void)h_->kube().Create(res::Pods(), "lab-alice", *ready);
  });
  Result r = Run("ide start nb --kind jupyterlab --machine-type rtx3090 --timeout 30");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("waiting for rtx3090: 2nd of 3 in line (no estimate)\n"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("waiting for rtx3090: 1st of 2 in line (estimated "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("running on gpu-1: https://labkube.local/alice/nb/"), std::string::npos)
      << r.err;
  EXPECT_LT(r.err.find("2nd of 3"), r.err.find("1st of 2"));
}

TEST_F(CommandsTest, QueueListsMyPlacesAndTheLineOfAType) {
  ASSERT_EQ(Login("alice").code, 0);
  EXPECT_NE(Run("queue").out.find("Nothing of yours waits in line"), std::string::npos);
  sched::MachineType gpu;
  gpu.set_group("lab");
  gpu.set_name("rtx3090");
  gpu.mutable_usage()->set_maximum(2);
  gpu.mutable_usage()->set_used(2);
  gpu.mutable_usage()->set_waiting(2);
  h_->scheduler().Set({gpu});
  sched::Queue q = RtxLine();
  AddEntry(q, "lab-bob", "train-1", Rfc3339(absl::Now() + absl::Hours(30)));
  AddEntry(q, "lab-alice", "ws-nb-5f7-abcde");
  h_->scheduler().SetQueue(q);
  Result r;
  ASSERT_TRUE(PollUntil([&] {  // the gateway learns of the waiting count through its watch
    r = Run("queue");
    return r.out.find("lab/rtx3090") != std::string::npos;
  })) << r.out << r.err;
  EXPECT_NE(r.out.find("lab/rtx3090   2 of 2  nb         ws-nb-5f7-abcde  5m"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("bob"), std::string::npos) << r.out;

  r = Run("queue --machine-type rtx3090");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1  bob     -"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2  alice   ws-nb-5f7-abcde (workspace nb)  5m       no estimate      yes"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("Note: no estimate: this machine type has no maxRuntime."),
            std::string::npos)
      << r.err;
  r = Run("queue --machine-type lab/rtx3090 -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto list = json::Parse(r.out);
  ASSERT_TRUE(list.ok() && list->IsArray() && list->Size() == 2) << r.out;
  EXPECT_EQ(json::GetString((*list)[0], {"member"}), "bob");
  EXPECT_EQ(json::GetString((*list)[0], {"pod"}), "");
  EXPECT_FALSE(json::GetString((*list)[0], {"estimated_start"}).empty());
  EXPECT_TRUE(json::GetBool((*list)[1], {"mine"}));
  r = Run("queue --machine-type h100");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("valid: lab/rtx3090"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace labkube::cli
