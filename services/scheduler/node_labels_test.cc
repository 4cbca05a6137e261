#include "services/scheduler/node_labels.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using ::testing::ElementsAre;

MachineGroup Group() {
  MachineGroup g;
  g.machine_name = "gpu-machines";
  g.group = "gpu";
  MachineType x2;
  x2.name = "rtx3090-x2";
  g.types = {x2};
  g.pool = {{"node-a", PoolMode::kReady, true, {"rtx3090-x2"}},
            {"node-b", PoolMode::kMaintenance, false, {"rtx3090-x2"}}};
  return g;
}

Plan PlanFor(const MachineGroup& g) {
  Plan plan;
  GroupStatus gs;
  gs.machine_name = g.machine_name;
  gs.group = g.group;
  gs.pool = {{"node-a", PoolMode::kReady, NodeCondition::kReady, ""},
             {"node-b", PoolMode::kMaintenance, NodeCondition::kMaintenance, ""}};
  plan.groups.push_back(gs);
  return plan;
}

rapidjson::Document NodeJson(const char* text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return std::move(doc).value();
}

TEST(NodeLabelsTest, DesiredMarksPerPoolEntry) {
  MachineGroup g = Group();
  auto marks = DesiredMarks({g}, PlanFor(g));
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks["node-a"].labels["labkube.io/rtx3090-x2"], "gpu");
  EXPECT_EQ(marks["node-a"].labels["labkube.io/node-pool"], "ready");
  EXPECT_EQ(marks["node-a"].annotations["labkube.io/machine-group"], "gpu");
  EXPECT_THAT(marks["node-a"].taints,
              ElementsAre(Taint{"labkube.io/rtx3090-x2", "gpu", "NoSchedule"}));
  EXPECT_EQ(marks["node-b"].labels["labkube.io/node-pool"], "maintenance");
  EXPECT_TRUE(marks["node-b"].taints.empty());
}

TEST(NodeLabelsTest, PatchAddsOursAndKeepsTheRest) {
  MachineGroup g = Group();
  auto marks = DesiredMarks({g}, PlanFor(g));
  auto node = NodeJson(R"({"metadata":{"name":"node-a","resourceVersion":"42",
      "labels":{"kubernetes.io/hostname":"node-a","labkube.io/old-type":"gpu"}},
      "spec":{"taints":[{"key":"dedicated","value":"x","effect":"NoExecute"}]}})");
  auto patch = NodeMarksPatch(node, marks["node-a"]);
  ASSERT_TRUE(patch.has_value());
  auto p = NodeJson(patch->c_str());
  EXPECT_EQ(json::GetString(p, {"metadata", "resourceVersion"}), "42");
  EXPECT_TRUE(json::Find(p, {"metadata", "labels", "labkube.io/old-type"})->IsNull());
  EXPECT_EQ(json::Find(p, {"metadata", "labels", "kubernetes.io/hostname"}), nullptr);
  EXPECT_EQ(json::GetString(p, {"metadata", "labels", "labkube.io/rtx3090-x2"}), "gpu");
  const auto& taints = *json::Find(p, {"spec", "taints"});
  ASSERT_EQ(taints.Size(), 2u);
  EXPECT_EQ(json::GetString(taints[0], {"key"}), "dedicated");
  EXPECT_EQ(json::GetString(taints[1], {"key"}), "labkube.io/rtx3090-x2");
}

TEST(NodeLabelsTest, NoPatchWhenAlreadyMarked) {
  auto node = NodeJson(R"({"metadata":{"name":"n","labels":{"labkube.io/node-pool":"ready"},
      "annotations":{"labkube.io/machine-group":"gpu"}}})");
  NodeMarks want;
  want.labels["labkube.io/node-pool"] = "ready";
  want.annotations["labkube.io/machine-group"] = "gpu";
  EXPECT_FALSE(NodeMarksPatch(node, want).has_value());
  EXPECT_TRUE(HasMarks(node));
}

TEST(NodeLabelsTest, EmptyMarksRemoveEverythingOfOurs) {
  auto node = NodeJson(R"({"metadata":{"name":"n","labels":{"labkube.io/node-pool":"ready"}},
      "spec":{"taints":[{"key":"labkube.io/t","value":"g","effect":"NoSchedule"}]}})");
  auto patch = NodeMarksPatch(node, NodeMarks{});
  ASSERT_TRUE(patch.has_value());
  auto p = NodeJson(patch->c_str());
  EXPECT_TRUE(json::Find(p, {"metadata", "labels", "labkube.io/node-pool"})->IsNull());
  EXPECT_EQ(json::Find(p, {"spec", "taints"})->Size(), 0u);
}

TEST(NodeLabelsTest, TheAdminsSystemNodeMarkIsNeverTouched) {
  auto node = NodeJson(R"({"metadata":{"name":"n","labels":{"labkube.io/system-node":"true"}},
      "spec":{"taints":[{"key":"labkube.io/system-node","value":"true","effect":"NoSchedule"}]}})");
  EXPECT_FALSE(NodeMarksPatch(node, NodeMarks{}).has_value()) << "nothing of ours to remove";
  auto marked = NodeJson(R"({"metadata":{"name":"n","labels":{"labkube.io/system-node":"true",
      "labkube.io/node-pool":"ready"}},
      "spec":{"taints":[{"key":"labkube.io/system-node","value":"true","effect":"NoSchedule"}]}})");
  auto patch = NodeMarksPatch(marked, NodeMarks{});
  ASSERT_TRUE(patch.has_value());
  auto p = NodeJson(patch->c_str());
  EXPECT_EQ(json::Find(p, {"metadata", "labels", "labkube.io/system-node"}), nullptr);
  EXPECT_EQ(json::Find(p, {"spec", "taints"}), nullptr) << "the taints are left as they are";
}

}  // namespace
}  // namespace labkube::scheduler
