#include "services/scheduler/machine_status.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

GroupStatus Group() {
  GroupStatus g;
  g.machine_name = "gpu-machines";
  g.group = "gpu";
  TypeStatus t;
  t.type = "x1";
  t.maximum = 2;
  t.reserved = 1;
  t.used = 1;
  t.fits = 2;
  t.nodes = {"node-a"};
  g.types = {t};
  g.pool = {{"node-a", PoolMode::kReady, NodeCondition::kReady, ""}};
  return g;
}

TEST(MachineStatusTest, ImperatorUsagePlusLabkubeFields) {
  auto machine = Json(R"({"metadata":{"name":"gpu-machines","generation":4}})");
  GroupStatus g = Group();
  auto patch = Json(MachineStatusPatch(machine, &g, {}, absl::FromUnixSeconds(0)));
  const auto& s = patch["status"];
  EXPECT_EQ(json::GetInt(s, {"observedGeneration"}), 4);
  const auto& am = s["availableMachines"][0];
  EXPECT_EQ(json::GetString(am, {"name"}), "x1");
  EXPECT_EQ(json::GetInt(am, {"usage", "maximum"}), 2);
  EXPECT_EQ(json::GetInt(am, {"usage", "reserved"}), 1);
  EXPECT_EQ(json::GetInt(am, {"usage", "used"}), 1);
  EXPECT_EQ(json::GetInt(am, {"usage", "waiting"}), 0);
  EXPECT_EQ(json::GetInt(am, {"fits"}), 2);
  EXPECT_EQ(json::GetString(s["nodePool"][0], {"condition"}), "Ready");
  EXPECT_EQ(json::GetString(s, {"summary"}), "1/2 free");
  EXPECT_EQ(json::GetString(s["conditions"][0], {"status"}), "True");
  EXPECT_EQ(json::GetString(s["conditions"][0], {"lastTransitionTime"}), "1970-01-01T00:00:00Z");
}

TEST(MachineStatusTest, ProblemsMakeReadyFalseAndKeepTransitionTime) {
  auto machine = Json(R"({"metadata":{"name":"m","generation":1},"status":{"conditions":[
      {"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z"}]}})");
  auto patch = Json(MachineStatusPatch(machine, nullptr, {"node x is already in group y", "b"},
                                       absl::FromUnixSeconds(1e9)));
  const auto& c = patch["status"]["conditions"][0];
  EXPECT_EQ(json::GetString(c, {"status"}), "False");
  EXPECT_EQ(json::GetString(c, {"reason"}), "InvalidSpec");
  EXPECT_EQ(json::GetString(c, {"message"}), "node x is already in group y; b");
  EXPECT_EQ(json::GetString(c, {"lastTransitionTime"}), "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace labkube::scheduler
