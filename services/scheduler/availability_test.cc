#include "services/scheduler/availability.h"

#include <thread>

#include "gtest/gtest.h"

namespace labkube::scheduler {
namespace {

AvailabilityList List(int reserved) {
  TypeAvailability a;
  a.group = "gpu";
  a.type.name = "x1";
  a.status.type = "x1";
  a.status.maximum = 2;
  a.status.reserved = reserved;
  return {a};
}

TEST(AvailabilityBoardTest, VersionMovesOnlyOnChange) {
  AvailabilityBoard board;
  board.Publish(List(1));
  uint64_t v1 = board.Current().first;
  board.Publish(List(1));
  EXPECT_EQ(board.Current().first, v1);
  board.Publish(List(2));
  EXPECT_EQ(board.Current().first, v1 + 1);
  EXPECT_EQ(board.Current().second->at(0).status.reserved, 2);
}

TEST(AvailabilityBoardTest, WaitersWakeOnPublishAndClose) {
  AvailabilityBoard board;
  board.Publish(List(1));
  uint64_t v = board.Current().first;
  std::thread t([&] { board.Publish(List(0)); });
  EXPECT_NE(board.WaitNewer(v, absl::Seconds(30)), v);
  t.join();
  v = board.Current().first;
  std::thread c([&] { board.Close(); });
  board.WaitNewer(v, absl::Seconds(30));
  c.join();
  EXPECT_TRUE(board.closed());
}

TEST(AvailabilityTest, BuildsOneEntryPerType) {
  PlannerInput in;
  MachineGroup g;
  g.machine_name = "m";
  g.group = "gpu";
  MachineType t;
  t.name = "x1";
  g.types = {t};
  in.groups = {g};
  Plan plan;
  GroupStatus gs;
  gs.machine_name = "m";
  TypeStatus ts;
  ts.type = "x1";
  ts.maximum = 3;
  gs.types = {ts};
  plan.groups = {gs};
  AvailabilityList list = BuildAvailability(in, plan);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].group, "gpu");
  EXPECT_EQ(list[0].status.maximum, 3);
  EXPECT_TRUE(list[0].gpu_products.empty());
}

TEST(AvailabilityTest, GpuProductsAreTheDistinctLabelsOfTheTypesNodes) {
  PlannerInput in;
  MachineGroup g;
  g.machine_name = "m";
  g.group = "gpu";
  MachineType t;
  t.name = "x1";
  g.types = {t};
  in.groups = {g};
  for (auto [name, product] : {std::pair{"a", "RTX-3090"}, {"b", "RTX-4090"}, {"c", "RTX-3090"},
                               {"d", ""}, {"other", "A100"}}) {
    in.nodes[name].name = name;
    if (product[0] != 0) in.nodes[name].labels["nvidia.com/gpu.product"] = product;
  }
  Plan plan;
  GroupStatus gs;
  gs.machine_name = "m";
  TypeStatus ts;
  ts.type = "x1";
  ts.nodes = {"a", "b", "c", "d", "gone"};
  gs.types = {ts};
  plan.groups = {gs};
  AvailabilityList list = BuildAvailability(in, plan);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].gpu_products, (std::vector<std::string>{"RTX-3090", "RTX-4090"}));
}

}  // namespace
}  // namespace labkube::scheduler
