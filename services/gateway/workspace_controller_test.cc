#include "services/gateway/workspace_controller.h"

#include <atomic>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/wait_until.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using labkube::testing::WaitUntil;

constexpr char kNs[] = "lab-alice";

class WorkspaceControllerTest : public ::testing::Test {
 protected:
  WorkspaceControllerTest() {
    availability_.Set({testing::TestType("lab", "rtx3090", 1, "NVIDIA-GeForce-RTX-3090", 2, 1),
                       testing::TestType("lab", "cpu", 0, "", 4, 4)});
  }
  ~WorkspaceControllerTest() override {
    if (controller_) controller_->Stop();
  }

  void StartController() {
    WorkspaceControllerOptions o;
    o.retry_after = absl::Milliseconds(50);
    controller_ = std::make_unique<WorkspaceController>(
        kube_, availability_, Clock::Real(), [this] { return leader_.load(); },
        WorkspaceOptions(), o);
    controller_->Start();
    ASSERT_TRUE(controller_->WaitForSync(absl::Now() + absl::Seconds(10)));
  }

  // Creates Workspace `name` in `ns`; returns its uid.
  std::string CreateWorkspace(const std::string& name, const std::string& type = "rtx3090",
                              const std::string& ns = kNs) {
    WorkspaceRequest r;
    r.kind = gw::WORKSPACE_KIND_JUPYTERLAB;
    r.type = type;
    r.volumes = {{"labkube-cephfs", "/data", false}};
    absl::StatusOr<rapidjson::Document> created =
        kube_.Create(WorkspaceResource(), ns, BuildWorkspace(ns, name, "alice", r).value());
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? std::string(json::GetString(*created, {"metadata", "uid"})) : "";
  }

  bool OwnedBy(const kube::Resource& r, const std::string& name, const std::string& uid) {
    absl::StatusOr<rapidjson::Document> o = kube_.Get(r, kNs, name);
    if (!o.ok()) return false;
    const rapidjson::Value* refs = json::Find(*o, {"metadata", "ownerReferences"});
    return refs != nullptr && refs->IsArray() && refs->Size() == 1 &&
           json::GetString((*refs)[0], {"uid"}) == uid &&
           json::GetString((*refs)[0], {"kind"}) == "Workspace";
  }

  bool AllFour(const std::string& ws, const std::string& uid) {
    const std::string name = "ws-" + ws;
    return OwnedBy(res::Deployments(), name, uid) && OwnedBy(res::Services(), name, uid) &&
           OwnedBy(res::Ingresses(), name, uid) && OwnedBy(res::Secrets(), name + "-token", uid);
  }

  WorkspaceStatus StatusOf(const std::string& name, const std::string& ns = kNs) {
    absl::StatusOr<rapidjson::Document> w = kube_.Get(WorkspaceResource(), ns, name);
    return w.ok() ? ReadStatus(*w) : WorkspaceStatus();
  }

  const WorkspaceCondition* ConditionOf(const WorkspaceStatus& s, const std::string& type) {
    for (const WorkspaceCondition& c : s.conditions) {
      if (c.type == type) return &c;
    }
    return nullptr;
  }

  kube::testing::FakeClient kube_;
  testing::FakeAvailability availability_;
  std::atomic<bool> leader_{true};
  std::unique_ptr<WorkspaceController> controller_;
};

TEST_F(WorkspaceControllerTest, MakesTheFourObjectsOwnedByTheWorkspaceAndReportsStatus) {
  StartController();
  const std::string uid = CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").phase == gw::PHASE_STARTING; }));
  WorkspaceStatus s = StatusOf("nb");
  EXPECT_EQ(s.url, "https://labkube.local/alice/nb/");
  EXPECT_EQ(s.machine_group, "lab");
  EXPECT_EQ(s.gpu_model, "NVIDIA-GeForce-RTX-3090");
  EXPECT_EQ(s.gpu_count, 1);
  EXPECT_EQ(s.observed_generation, 1);
  const WorkspaceCondition* provisioned = ConditionOf(s, "Provisioned");
  ASSERT_NE(provisioned, nullptr);
  EXPECT_EQ(provisioned->status, "True");
  EXPECT_FALSE(provisioned->last_transition_time.empty());
  auto d = kube_.Get(res::Deployments(), kNs, "ws-nb");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(json::GetString((*d)["spec"]["template"]["spec"]["containers"][0], {"image"}),
            "quay.io/jupyter/base-notebook:latest");
  EXPECT_EQ(json::GetString((*d)["spec"]["template"]["spec"]["volumes"][0],
                            {"persistentVolumeClaim", "claimName"}),
            "labkube-cephfs");
}

TEST_F(WorkspaceControllerTest, AReadyPodMakesItRunningOnItsNode) {
  StartController();
  CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return kube_.Get(res::Deployments(), kNs, "ws-nb").ok(); }));
  auto pod = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-nb-5f7-abcde",
      "labels":{"app.kubernetes.io/managed-by":"labkube-gateway","labkube.io/component":"workspace",
      "labkube.io/workspace":"nb","labkube.io/user":"alice"}},"spec":{"nodeName":"gpu-1"},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})");
  ASSERT_TRUE(kube_.Create(res::Pods(), kNs, *pod).ok());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").phase == gw::PHASE_RUNNING; }));
  WorkspaceStatus s = StatusOf("nb");
  EXPECT_EQ(s.node, "gpu-1");
  EXPECT_EQ(ConditionOf(s, "Ready")->status, "True");
}

TEST_F(WorkspaceControllerTest, ADeletedChildIsMadeAgain) {
  StartController();
  const std::string uid = CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
  ASSERT_TRUE(kube_.Delete(res::Services(), kNs, "ws-nb").ok());
  ASSERT_TRUE(kube_.Delete(res::Ingresses(), kNs, "ws-nb").ok());
  EXPECT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
}

TEST_F(WorkspaceControllerTest, AHalfMadeWorkspaceIsFinished) {
  const std::string uid = CreateWorkspace("nb");
  // What a controller that died half way left: the Deployment only.
  WorkspaceSpec spec;
  spec.member = "alice";
  spec.ns = kNs;
  spec.name = "nb";
  spec.group = "lab";
  spec.type = "rtx3090";
  spec.image = "img";
  ASSERT_TRUE(kube_.Create(res::Deployments(), kNs, BuildDeployment(spec, {"nb", uid}).value()).ok());
  StartController();
  EXPECT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
  // Its spec differed from the Workspace's (image): the Deployment is rewritten.
  EXPECT_TRUE(WaitUntil([&] {
    auto d = kube_.Get(res::Deployments(), kNs, "ws-nb");
    return d.ok() && json::GetString((*d)["spec"]["template"]["spec"]["containers"][0],
                                     {"image"}) == "quay.io/jupyter/base-notebook:latest";
  }));
}

TEST_F(WorkspaceControllerTest, ASpecChangeRewritesTheDeploymentAndKeepsTheToken) {
  StartController();
  const std::string uid = CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
  const std::string token(
      json::GetString(*kube_.Get(res::Secrets(), kNs, "ws-nb-token"), {"stringData", "token"}));
  ASSERT_TRUE(kube_
                  .Patch(WorkspaceResource(), kNs, "nb", kube::PatchType::kMergePatch,
                         R"({"spec":{"image":"docker.io/me/lab:2"}})")
                  .ok());
  EXPECT_TRUE(WaitUntil([&] {
    auto d = kube_.Get(res::Deployments(), kNs, "ws-nb");
    return d.ok() && json::GetString((*d)["spec"]["template"]["spec"]["containers"][0],
                                     {"image"}) == "docker.io/me/lab:2";
  }));
  EXPECT_TRUE(WaitUntil([&] { return StatusOf("nb").observed_generation == 2; }));
  EXPECT_EQ(json::GetString(*kube_.Get(res::Secrets(), kNs, "ws-nb-token"), {"stringData", "token"}),
            token);
}

TEST_F(WorkspaceControllerTest, AnObjectOfSomeoneElseIsAConflictNotOverwritten) {
  auto foreign = json::Parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"ws-nb"},"spec":{}})");
  ASSERT_TRUE(kube_.Create(res::Services(), kNs, *foreign).ok());
  StartController();
  CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] {
    const WorkspaceStatus now = StatusOf("nb");
    const WorkspaceCondition* c = ConditionOf(now, "Provisioned");
    return c != nullptr && c->status == "False";
  }));
  const WorkspaceStatus s = StatusOf("nb");
  const WorkspaceCondition* c = ConditionOf(s, "Provisioned");
  EXPECT_NE(c->message.find("Service ws-nb exists and does not belong to workspace nb"),
            std::string::npos)
      << c->message;
  EXPECT_TRUE(kube_.Get(res::Deployments(), kNs, "ws-nb").ok()) << "the rest is still made";
}

TEST_F(WorkspaceControllerTest, BadSpecsAndPlacesAreFailedWithTheReason) {
  StartController();
  CreateWorkspace("nb", "h100");
  CreateWorkspace("nb", "cpu", "default");
  auto bad = json::Parse(R"({"apiVersion":"labkube.io/v1alpha1","kind":"Workspace",
      "metadata":{"name":"vi"},"spec":{"kind":"vim","machine":{"type":"cpu"}}})");
  ASSERT_TRUE(kube_.Create(WorkspaceResource(), kNs, *bad).ok());
  ASSERT_TRUE(WaitUntil([&] {
    return StatusOf("nb").phase == gw::PHASE_FAILED && StatusOf("vi").phase == gw::PHASE_FAILED &&
           StatusOf("nb", "default").phase == gw::PHASE_FAILED;
  }));
  EXPECT_EQ(StatusOf("nb").reason, "UnknownMachineType");
  EXPECT_NE(StatusOf("nb").message.find("valid: lab/rtx3090, lab/cpu"), std::string::npos);
  EXPECT_EQ(StatusOf("vi").reason, "InvalidSpec");
  EXPECT_EQ(StatusOf("vi").message.substr(0, 10), "spec.kind:");
  EXPECT_EQ(StatusOf("nb", "default").reason, "NotAMemberNamespace");
  EXPECT_FALSE(kube_.Get(res::Deployments(), kNs, "ws-nb").ok());
  EXPECT_FALSE(kube_.Get(res::Deployments(), "default", "ws-nb").ok());
}

TEST_F(WorkspaceControllerTest, OnlyTheLeaderActs) {
  leader_ = false;
  StartController();
  const std::string uid = CreateWorkspace("nb");
  // A follower's pass is a no-op: one explicit look shows nothing made by the loop yet.
  EXPECT_FALSE(kube_.Get(res::Deployments(), kNs, "ws-nb").ok());
  leader_ = true;
  EXPECT_TRUE(WaitUntil([&] { return AllFour("nb", uid); }));
}

}  // namespace
}  // namespace labkube::gateway

namespace labkube::gateway {
namespace {

gw::Queue LineOf(const std::vector<std::string>& pods, int64_t first_estimate = 0) {
  gw::Queue q;
  q.set_group("lab");
  q.set_machine_type("rtx3090");
  q.set_estimate_note("no estimate: this machine type has no maxRuntime");
  for (const std::string& p : pods) {
    gw::QueueEntry* e = q.add_entries();
    e->set_namespace_(kNs);
    e->set_pod(p);
    e->set_position(q.entries_size());
    if (first_estimate > 0) e->mutable_estimated_start()->set_seconds(first_estimate + 60 * q.entries_size());
  }
  return q;
}

TEST_F(WorkspaceControllerTest, AGatedPodShowsItsPlaceInLineAndFollowsIt) {
  StartController();
  CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return kube_.Get(res::Deployments(), kNs, "ws-nb").ok(); }));
  availability_.SetQueue(LineOf({"other-1", "ws-nb-5f7-abcde", "other-2"}));
  auto pod = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-nb-5f7-abcde",
      "labels":{"app.kubernetes.io/managed-by":"labkube-gateway","labkube.io/component":"workspace",
      "labkube.io/workspace":"nb","labkube.io/user":"alice"},
      "annotations":{"labkube.io/waiting":"lab/rtx3090"}},
      "spec":{"schedulingGates":[{"name":"labkube.io/queue"}]},
      "status":{"phase":"Pending"}})");
  ASSERT_TRUE(kube_.Create(res::Pods(), kNs, *pod).ok());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").queue_position == 2; }));
  WorkspaceStatus s = StatusOf("nb");
  EXPECT_EQ(s.phase, gw::PHASE_WAITING);
  EXPECT_EQ(s.reason, "InLine");
  EXPECT_EQ(s.queue_length, 3);
  EXPECT_EQ(s.estimated_start, "");
  EXPECT_EQ(s.estimate_note, "no estimate: this machine type has no maxRuntime");
  EXPECT_EQ(s.message, "waiting for rtx3090: 2nd of 3 in line (no estimate)");

  // The one ahead got its slot: nothing about our pod changed, the availability did.
  availability_.SetQueue(LineOf({"ws-nb-5f7-abcde", "other-2"}, 1714573200 - 60));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").queue_position == 1; }));
  s = StatusOf("nb");
  EXPECT_EQ(s.queue_length, 2);
  EXPECT_EQ(s.estimated_start, "2024-05-01T14:20:00Z");
  EXPECT_EQ(s.message, "waiting for rtx3090: 1st of 2 in line (estimated 2024-05-01 14:20 UTC)");
  gw::Workspace view = WorkspaceView(*kube_.Get(WorkspaceResource(), kNs, "nb"), "alice", absl::Now());
  EXPECT_EQ(view.queue_position(), 1);
  EXPECT_EQ(view.queue_length(), 2);
  EXPECT_EQ(view.estimated_start().seconds(), 1714573200);

  // Handed over: gate removed, placed and ready; the queue fields go.
  auto running = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-nb-5f7-abcde",
      "labels":{"app.kubernetes.io/managed-by":"labkube-gateway","labkube.io/component":"workspace",
      "labkube.io/workspace":"nb","labkube.io/user":"alice"}},"spec":{"nodeName":"gpu-1"},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})");
  ASSERT_TRUE(kube_.Delete(res::Pods(), kNs, "ws-nb-5f7-abcde", {}).ok());
  ASSERT_TRUE(kube_.Create(res::Pods(), kNs, *running).ok());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").phase == gw::PHASE_RUNNING; }));
  s = StatusOf("nb");
  EXPECT_EQ(s.queue_position, 0);
  EXPECT_EQ(s.estimate_note, "");
  auto raw = kube_.Get(WorkspaceResource(), kNs, "nb");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(json::Find(*raw, {"status", "queue"}), nullptr) << json::ToString(*raw);
}

TEST_F(WorkspaceControllerTest, ASchedulerThatCannotSayKeepsTheGenericMessage) {
  StartController();
  CreateWorkspace("nb");
  ASSERT_TRUE(WaitUntil([&] { return kube_.Get(res::Deployments(), kNs, "ws-nb").ok(); }));
  // Not (yet) in the scheduler's line.
  auto pod = json::Parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"ws-nb-5f7-abcde",
      "labels":{"app.kubernetes.io/managed-by":"labkube-gateway","labkube.io/component":"workspace",
      "labkube.io/workspace":"nb","labkube.io/user":"alice"},
      "annotations":{"labkube.io/waiting":"lab/rtx3090"}},
      "spec":{"schedulingGates":[{"name":"labkube.io/queue"}]},"status":{"phase":"Pending"}})");
  ASSERT_TRUE(kube_.Create(res::Pods(), kNs, *pod).ok());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf("nb").reason == "InLine"; }));
  EXPECT_EQ(StatusOf("nb").queue_position, 0);
  EXPECT_EQ(StatusOf("nb").message, "waiting in line for a lab/rtx3090 slot");
}

}  // namespace
}  // namespace labkube::gateway
