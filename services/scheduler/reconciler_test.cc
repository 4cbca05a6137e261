#include "services/scheduler/reconciler.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using ::testing::UnorderedElementsAre;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

constexpr char kMachine[] = R"({"apiVersion":"labkube.io/v1alpha1","kind":"Machine",
  "metadata":{"name":"gpu-machines","labels":{"labkube.io/machine-group":"gpu"}},
  "spec":{"nodePool":[
    {"name":"node-a","mode":"ready","taint":true,"machineType":[{"name":"x2"},{"name":"x1"}]},
    {"name":"node-b","mode":"ready","machineType":[{"name":"x2"},{"name":"x1"}]}],
  "machineTypes":[
    {"name":"x2","spec":{"cpu":"8","memory":"32Gi","gpu":{"num":2}},"available":1},
    {"name":"x1","spec":{"cpu":"4","memory":"16Gi","gpu":{"num":1}},"available":2}]}})";

std::string NodeJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
         R"("},"status":{"allocatable":{"cpu":"32","memory":"128Gi","nvidia.com/gpu":"2"},
      "conditions":[{"type":"Ready","status":"True"}]}})";
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest()
      : client_(clock_),
        state_(clock_, absl::Seconds(30), "labkube-system", signer_),
        reconciler_(client_, state_, clock_, ReconcilerOptions{}) {
    EXPECT_TRUE(client_.Create(res::Machines(), "", Json(kMachine)).ok());
    for (const char* n : {"node-a", "node-b"}) {
      EXPECT_TRUE(client_.Create(res::Nodes(), "", Json(NodeJson(n))).ok());
    }
  }

  // What the informers would deliver: the fake's current objects into the state.
  void Sync() {
    auto machines = client_.List(res::Machines(), "", {});
    std::set<std::string> seen_machines;
    for (const auto& m : machines->items().GetArray()) {
      state_.OnMachine(std::make_shared<rapidjson::Document>(json::Copy(m)));
      seen_machines.insert(std::string(json::GetString(m, {"metadata", "name"})));
    }
    for (const auto& name : known_machines_) {
      if (seen_machines.count(name) == 0) state_.OnMachineDeleted(name);
    }
    known_machines_ = seen_machines;
    auto nodes = client_.List(res::Nodes(), "", {});
    for (const auto& n : nodes->items().GetArray()) {
      state_.OnNode(std::make_shared<rapidjson::Document>(json::Copy(n)));
    }
    auto pods = client_.List(res::Pods(), "", {});
    std::set<std::string> seen;
    for (auto& p : pods->items().GetArray()) {
      std::string name(json::GetString(p, {"metadata", "name"}));
      seen.insert(name);
      rapidjson::Document pod = json::Copy(p);
      json::SetString(pod, {"status", "phase"}, "Running");  // as kwok would
      json::SetString(pod, {"spec", "nodeName"},
                      json::GetString(p, {"metadata", "annotations", "labkube.io/node"}));
      state_.OnPod(pod);
    }
    for (const auto& name : known_pods_) {
      if (seen.count(name) == 0) state_.OnPodDeleted("labkube-system", name);
    }
    known_pods_ = seen;
  }

  std::vector<std::string> ReservationNodes() {
    std::vector<std::string> nodes;
    auto pods = client_.List(res::Pods(), "labkube-system", {});
    for (const auto& p : pods->items().GetArray()) {
      nodes.push_back(std::string(json::GetString(p, {"metadata", "labels", "labkube.io/machine-type"})) +
                      "@" + std::string(json::GetString(p, {"metadata", "annotations", "labkube.io/node"})));
    }
    return nodes;
  }

  testing::FakeClock clock_;
  kube::testing::FakeClient client_;
  ClaimSigner signer_ = *ClaimSigner::Create(std::string(32, 't'));
  SchedulerState state_;
  Reconciler reconciler_;
  std::set<std::string> known_pods_, known_machines_;
};

TEST_F(ReconcilerTest, CreatesReservationsMarksNodesAndWritesStatus) {
  Sync();
  PassResult r = reconciler_.RunOnce(/*leader=*/true);
  EXPECT_EQ(r.errors, 0);
  auto nodes = ReservationNodes();
  ASSERT_EQ(nodes.size(), 3u);
  // Running again before the watch shows the pods must not create more.
  reconciler_.RunOnce(true);
  EXPECT_EQ(ReservationNodes().size(), 3u);
  Sync();
  reconciler_.RunOnce(true);
  Sync();
  EXPECT_EQ(ReservationNodes().size(), 3u);

  auto node_a = client_.Get(res::Nodes(), "", "node-a");
  EXPECT_EQ(json::GetString(*node_a, {"metadata", "labels", "labkube.io/x2"}), "gpu");
  EXPECT_EQ(json::GetString(*node_a, {"metadata", "labels", "labkube.io/node-pool"}), "ready");
  EXPECT_EQ(json::GetString((*node_a)["spec"]["taints"][0], {"key"}), "labkube.io/x2");
  auto machine = client_.Get(res::Machines(), "", "gpu-machines");
  EXPECT_EQ(json::Find(*machine, {"metadata", "finalizers"}), nullptr) << "no finalizer";
  EXPECT_EQ(json::GetString(*machine, {"status", "summary"}), "3/3 free");
  EXPECT_EQ(json::GetString((*machine)["status"]["conditions"][0], {"status"}), "True");
}

TEST_F(ReconcilerTest, TheFinalizerOfOlderVersionsIsTakenOffAndADeletedMachineIsCleanedUp) {
  ASSERT_TRUE(client_.Patch(res::Machines(), "", "gpu-machines", kube::PatchType::kMergePatch,
                            R"({"metadata":{"finalizers":["labkube.io/cleanup","example.com/keep"]}})")
                  .ok());
  Sync();
  reconciler_.RunOnce(true);
  auto machine = client_.Get(res::Machines(), "", "gpu-machines");
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(json::ToString(*json::Find(*machine, {"metadata", "finalizers"})),
            R"(["example.com/keep"])");
  Sync();
  reconciler_.RunOnce(true);
  ASSERT_EQ(ReservationNodes().size(), 3u);
  // Deleted without any finalizer of ours: its reservation pods and node marks go next pass.
  ASSERT_TRUE(client_.Patch(res::Machines(), "", "gpu-machines", kube::PatchType::kMergePatch,
                            R"({"metadata":{"finalizers":null}})")
                  .ok());
  ASSERT_TRUE(client_.Delete(res::Machines(), "", "gpu-machines").ok());
  Sync();
  reconciler_.RunOnce(true);
  Sync();
  reconciler_.RunOnce(true);
  EXPECT_TRUE(ReservationNodes().empty());
  auto node_a = client_.Get(res::Nodes(), "", "node-a");
  EXPECT_EQ(json::GetString(*node_a, {"metadata", "labels", "labkube.io/x2"}), "");
}

TEST_F(ReconcilerTest, FollowerOnlyPlans) {
  Sync();
  PassResult r = reconciler_.RunOnce(/*leader=*/false);
  EXPECT_EQ(r.plan.create.size(), 3u);
  EXPECT_EQ(r.writes, 0);
  EXPECT_TRUE(ReservationNodes().empty());
}

TEST_F(ReconcilerTest, ScalingDownRemovesReservations) {
  Sync();
  reconciler_.RunOnce(true);
  Sync();
  auto machine = client_.Get(res::Machines(), "", "gpu-machines");
  ASSERT_TRUE(client_.Patch(res::Machines(), "", "gpu-machines", kube::PatchType::kJsonPatch,
                            R"([{"op":"replace","path":"/spec/machineTypes/1/available","value":0}])")
                  .ok());
  Sync();
  reconciler_.RunOnce(true);
  Sync();
  auto nodes = ReservationNodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].substr(0, 3), "x2@");
}

TEST_F(ReconcilerTest, DeletingTheMachineCleansUpEverything) {
  Sync();
  reconciler_.RunOnce(true);
  Sync();
  reconciler_.RunOnce(true);  // finalizer in place
  ASSERT_TRUE(client_.Delete(res::Machines(), "", "gpu-machines").ok());
  for (int i = 0; i < 4; ++i) {
    Sync();
    reconciler_.RunOnce(true);
  }
  Sync();
  EXPECT_TRUE(ReservationNodes().empty());
  auto node_a = client_.Get(res::Nodes(), "", "node-a");
  EXPECT_EQ(json::Find(*node_a, {"metadata", "labels", "labkube.io/x2"}), nullptr);
  EXPECT_EQ(json::Find(*node_a, {"metadata", "annotations", "labkube.io/machine-group"}), nullptr);
  EXPECT_EQ(client_.Get(res::Machines(), "", "gpu-machines").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ReconcilerTest, BadSpecIsReportedNotFatal) {
  ASSERT_TRUE(client_.Create(res::Machines(), "", Json(R"({"apiVersion":"labkube.io/v1alpha1",
      "kind":"Machine","metadata":{"name":"zz-bad"},"spec":{"nodePool":[
      {"name":"node-a","mode":"ready","machineType":[{"name":"ghost"}]}],"machineTypes":[]}})"))
                  .ok());
  Sync();
  PassResult r = reconciler_.RunOnce(true);
  EXPECT_EQ(r.errors, 0);
  auto bad = client_.Get(res::Machines(), "", "zz-bad");
  const auto& c = (*bad)["status"]["conditions"][0];
  EXPECT_EQ(json::GetString(c, {"status"}), "False");
  EXPECT_THAT(std::string(json::GetString(c, {"message"})),
              ::testing::HasSubstr("node node-a is already in machine group gpu"));
}

}  // namespace
}  // namespace labkube::scheduler
