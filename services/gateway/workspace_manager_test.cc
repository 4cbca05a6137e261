#include "services/gateway/workspace_manager.h"

#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"
#include "lib/testing/wait_until.h"
#include "services/gateway/workspace_controller.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

// Refuses Workspaces (as an API server without the CRD, or a quota, would).
class NoWorkspaceClient : public kube::testing::FakeClient {
 public:
  using FakeClient::FakeClient;
  absl::StatusOr<rapidjson::Document> Create(const kube::Resource& r, std::string_view ns,
                                             const rapidjson::Value& o,
                                             const kube::WriteOptions& w = {}) override {
    if (r.plural == "workspaces") return absl::InvalidArgumentError("workspace admission said no");
    return FakeClient::Create(r, ns, o, w);
  }
};

class WorkspaceManagerTest : public ::testing::Test {
 protected:
  WorkspaceManagerTest() {
    availability_.Set({testing::TestType("lab", "rtx3090", 1, "NVIDIA-GeForce-RTX-3090", 2, 1),
                       testing::TestType("lab", "cpu", 0, "", 4, 4)});
    options_.watch_poll = absl::Milliseconds(5);
    options_.token_wait = absl::ZeroDuration();  // the fake clock would wait forever
  }
  ~WorkspaceManagerTest() override {
    if (controller_) controller_->Stop();
  }

  // The controller that makes Workspaces real (on the real clock: its informers poll).
  void StartController() {
    controller_ = std::make_unique<WorkspaceController>(
        kube_, availability_, Clock::Real(), [] { return true; }, options_,
        WorkspaceControllerOptions());
    controller_->Start();
    ASSERT_TRUE(controller_->WaitForSync(absl::Now() + absl::Seconds(10)));
  }

  gw::StartWorkspaceRequest Request(const std::string& name, const std::string& type = "rtx3090") {
    gw::StartWorkspaceRequest r;
    r.set_name(name);
    r.set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
    r.set_machine_type(type);
    return r;
  }

  bool Exists(const kube::Resource& r, const std::string& name) {
    return kube_.Get(r, "lab-alice", name).ok();
  }

  // The workspace's pod, as the ReplicaSet would create it (after the injector).
  void AddPod(const std::string& ws, const std::string& status, const std::string& node) {
    auto pod =
        json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-)" + ws +
                    R"(-5f7-abcde","labels":{"app.kubernetes.io/managed-by":"labkube-gateway",
        "labkube.io/component":"workspace","labkube.io/workspace":")" +
                    ws + R"(","labkube.io/user":"alice"}},"spec":{"nodeName":")" + node +
                    R"("},"status":)" + status + "}");
    ASSERT_TRUE(pod.ok()) << pod.status();
    ASSERT_TRUE(kube_.Create(res::Pods(), "lab-alice", *pod).ok());
  }

  labkube::testing::FakeClock clock_;
  NoWorkspaceClient failing_{clock_};
  kube::testing::FakeClient kube_{clock_};
  testing::FakeAvailability availability_;
  StorageManager storage_{kube_, StorageOptions()};
  WorkspaceOptions options_;
  const Target alice_{"alice", "lab-alice"};
  std::unique_ptr<WorkspaceController> controller_;
};

TEST_F(WorkspaceManagerTest, StartCreatesTheWorkspaceTheControllerMakesReal) {
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  absl::StatusOr<gw::Workspace> w = m.Start(alice_, Request("nb"));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->name(), "nb");
  EXPECT_EQ(w->machine_group(), "lab");
  EXPECT_EQ(w->machine_type(), "rtx3090");
  EXPECT_EQ(w->gpu_model(), "NVIDIA-GeForce-RTX-3090");
  EXPECT_EQ(w->gpu_count(), 1);
  EXPECT_EQ(w->phase(), gw::PHASE_STARTING);
  EXPECT_EQ(w->url(), "https://labkube.local/alice/nb/");
  EXPECT_EQ(w->image(), "quay.io/jupyter/base-notebook:latest");
  auto o = kube_.Get(WorkspaceResource(), "lab-alice", "nb");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(json::GetString(*o, {"spec", "machine", "group"}), "lab");
  EXPECT_EQ(json::GetString(*o, {"spec", "kind"}), "jupyterlab");
  EXPECT_EQ(json::GetString(*o, {"metadata", "labels", "labkube.io/user"}), "alice");
  EXPECT_FALSE(Exists(res::Deployments(), "ws-nb")) << "the controller's job, not Start's";
  StartController();
  const std::string uid(json::GetString(*o, {"metadata", "uid"}));
  ASSERT_TRUE(labkube::testing::WaitUntil([&] {
    absl::StatusOr<gw::Workspace> now = m.Describe(alice_, "nb");
    return now.ok() && now->access_token().size() == 48u && Exists(res::Ingresses(), "ws-nb");
  }));
  for (const kube::Resource* r : {&res::Deployments(), &res::Services(), &res::Ingresses()}) {
    auto child = kube_.Get(*r, "lab-alice", "ws-nb");
    ASSERT_TRUE(child.ok()) << r->kind;
    EXPECT_EQ(json::GetString((*child)["metadata"]["ownerReferences"][0], {"uid"}), uid);
  }
}

TEST_F(WorkspaceManagerTest, BadInputNamesTheField) {
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  auto expect = [&](gw::StartWorkspaceRequest r, absl::StatusCode code, const std::string& prefix) {
    absl::StatusOr<gw::Workspace> w = m.Start(alice_, r);
    EXPECT_EQ(w.status().code(), code) << w.status();
    EXPECT_EQ(std::string(w.status().message()).substr(0, prefix.size()), prefix) << w.status();
  };
  expect(Request("My_WS"), absl::StatusCode::kInvalidArgument, "name: \"My_WS\"");
  expect(Request(std::string(41, 'a')), absl::StatusCode::kInvalidArgument, "name: longer");
  gw::StartWorkspaceRequest r = Request("nb");
  r.set_kind(gw::WORKSPACE_KIND_UNSPECIFIED);
  expect(r, absl::StatusCode::kInvalidArgument, "kind:");
  r = Request("nb");
  r.set_image("bad image");
  expect(r, absl::StatusCode::kInvalidArgument, "image:");
  r = Request("nb");
  r.add_image_pull_secrets("Not_A_Secret");
  expect(r, absl::StatusCode::kInvalidArgument, "image_pull_secrets[0]:");
  expect(Request("nb", "h100"), absl::StatusCode::kNotFound,
         "machine_type: unknown machine type \"h100\"; valid: lab/rtx3090, lab/cpu");
  expect(Request("nb", ""), absl::StatusCode::kInvalidArgument, "machine_type is required");
  EXPECT_FALSE(Exists(WorkspaceResource(), "nb"));
}

TEST_F(WorkspaceManagerTest, DuplicatesAreAlreadyExists) {
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  ASSERT_TRUE(m.Start(alice_, Request("nb")).ok());
  absl::StatusOr<gw::Workspace> again = m.Start(alice_, Request("nb", "cpu"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("name: workspace \"nb\" already exists"),
            std::string::npos);
}

TEST_F(WorkspaceManagerTest, MountsTheMembersStorage) {
  ASSERT_TRUE(storage_.Create(alice_, "10Gi", "").ok());
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  absl::StatusOr<gw::Workspace> w = m.Start(alice_, Request("nb", "cpu"));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->volumes_size(), 2);
  EXPECT_EQ(w->volumes(0), "labkube-cephfs");
  EXPECT_EQ(w->gpu_count(), 0);
  // Storage cannot go while the workspace exists (even before its pod does): once the
  // controller has made its Deployment.
  StartController();
  EXPECT_TRUE(labkube::testing::WaitUntil([&] {
    return storage_.Delete(alice_, "alice", false).status().code() ==
           absl::StatusCode::kFailedPrecondition;
  }));
}

TEST_F(WorkspaceManagerTest, StopDeletesTheWorkspaceAndNamesWhatGoesWithIt) {
  StartController();
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  ASSERT_TRUE(m.Start(alice_, Request("nb")).ok());
  ASSERT_TRUE(labkube::testing::WaitUntil([&] { return Exists(res::Secrets(), "ws-nb-token"); }));
  ASSERT_TRUE(labkube::testing::WaitUntil([&] { return Exists(res::Ingresses(), "ws-nb"); }));
  absl::StatusOr<std::vector<std::string>> deleted = m.Stop(alice_, "nb");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, (std::vector<std::string>{"Workspace/nb", "Deployment/ws-nb", "Service/ws-nb",
                                                "Ingress/ws-nb", "Secret/ws-nb-token"}));
  // The children go by garbage collection (their ownerReferences), which the fake API does not
  // do: tests/integration/gateway checks that against a real control plane.
  EXPECT_FALSE(Exists(WorkspaceResource(), "nb"));
  EXPECT_EQ(m.Stop(alice_, "nb").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.Describe(alice_, "nb").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(WorkspaceManagerTest, ARefusedWorkspaceLeavesNothing) {
  StorageManager storage(failing_, StorageOptions());
  WorkspaceManager m(failing_, availability_, storage, clock_, options_);
  absl::StatusOr<gw::Workspace> w = m.Start(alice_, Request("nb"));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(w.status().message().find("workspace admission said no"), std::string::npos);
  EXPECT_FALSE(failing_.Get(WorkspaceResource(), "lab-alice", "nb").ok());
}

TEST_F(WorkspaceManagerTest, DescribeAndListFollowTheStatus) {
  StartController();
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  ASSERT_TRUE(m.Start(alice_, Request("nb")).ok());
  ASSERT_TRUE(m.Start(alice_, Request("code", "cpu")).ok());
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(labkube::testing::WaitUntil([&] { return Exists(res::Deployments(), "ws-nb"); }));
  AddPod("nb", R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}]})", "gpu-1");
  ASSERT_TRUE(labkube::testing::WaitUntil(
      [&] { return m.Describe(alice_, "nb")->phase() == gw::PHASE_RUNNING; }));
  absl::StatusOr<gw::Workspace> w = m.Describe(alice_, "nb");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->node(), "gpu-1");
  EXPECT_EQ(w->age_seconds(), 180);
  absl::StatusOr<std::vector<gw::Workspace>> all = m.List(alice_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name(), "code");
  EXPECT_EQ((*all)[0].phase(), gw::PHASE_STARTING);
  EXPECT_EQ((*all)[1].phase(), gw::PHASE_RUNNING);
  EXPECT_TRUE(m.List(Target{"bob", "lab-bob"})->empty());
}

TEST_F(WorkspaceManagerTest, ARunningDescribeIsSharedForAMoment) {
  StartController();
  options_.describe_cache = absl::Seconds(1);
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  ASSERT_TRUE(m.Start(alice_, Request("nb")).ok());
  ASSERT_TRUE(labkube::testing::WaitUntil([&] { return Exists(res::Deployments(), "ws-nb"); }));
  AddPod("nb", R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}]})", "gpu-1");
  ASSERT_TRUE(labkube::testing::WaitUntil(
      [&] { return m.Describe(alice_, "nb")->phase() == gw::PHASE_RUNNING; }));
  int gets = kube_.CallCount("Get");
  EXPECT_EQ(m.Describe(alice_, "nb")->phase(), gw::PHASE_RUNNING);
  EXPECT_EQ(kube_.CallCount("Get"), gets) << "running: reused within describe_cache";
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(m.Describe(alice_, "nb")->phase(), gw::PHASE_RUNNING);
  EXPECT_GT(kube_.CallCount("Get"), gets);
  ASSERT_TRUE(m.Stop(alice_, "nb").ok());
  EXPECT_EQ(m.Describe(alice_, "nb").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(WorkspaceManagerTest, SchedulerDownIsUnavailable) {
  availability_.SetError(absl::UnavailableError("the scheduler is unavailable"));
  WorkspaceManager m(kube_, availability_, storage_, clock_, options_);
  EXPECT_EQ(m.Start(alice_, Request("nb")).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(WorkspaceManagerTest, WatchReportsChangesUntilGone) {
  StartController();
  WorkspaceManager m(kube_, availability_, storage_, Clock::Real(), options_);
  ASSERT_TRUE(m.Start(alice_, Request("nb")).ok());
  ASSERT_TRUE(labkube::testing::WaitUntil([&] { return Exists(res::Deployments(), "ws-nb"); }));
  std::vector<gw::Phase> seen;
  absl::Mutex mu;
  absl::Notification first;
  std::thread watcher([&] {
    absl::Status s = m.Watch(
        alice_, "nb",
        [&](const gw::Workspace& w) {
          absl::MutexLock lock(&mu);
          seen.push_back(w.phase());
          if (!first.HasBeenNotified()) first.Notify();
          return true;
        },
        [] { return false; });
    EXPECT_TRUE(s.ok()) << s;
  });
  first.WaitForNotification();
  AddPod("nb", R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}]})", "gpu-1");
  auto running = [&] {
    absl::MutexLock lock(&mu);
    return !seen.empty() && seen.back() == gw::PHASE_RUNNING;
  };
  while (!running()) absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(m.Stop(alice_, "nb").ok());
  watcher.join();
  EXPECT_EQ(seen,
            (std::vector<gw::Phase>{gw::PHASE_STARTING, gw::PHASE_RUNNING, gw::PHASE_STOPPED}));
  EXPECT_EQ(m.Watch(
                 alice_, "nope", [](const gw::Workspace&) { return true; }, [] { return false; })
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace labkube::gateway
