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

// Group "gpu" (Machine "m") with one type x1, and a plan giving it `status`.
std::pair<PlannerInput, Plan> OneType(TypeStatus status) {
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
  status.type = "x1";
  gs.types = {status};
  plan.groups = {gs};
  return {in, plan};
}

TEST(AvailabilityTest, BuildsOneEntryPerType) {
  TypeStatus ts;
  ts.maximum = 3;
  auto [in, plan] = OneType(ts);
  AvailabilityList list = BuildAvailability(in, plan);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].group, "gpu");
  EXPECT_EQ(list[0].status.maximum, 3);
  EXPECT_TRUE(list[0].gpu_products.empty());
}

TEST(AvailabilityTest, GpuProductsAreTheDistinctLabelsOfTheTypesNodes) {
  TypeStatus ts;
  ts.nodes = {"a", "b", "c", "d", "gone"};
  auto [in, plan] = OneType(ts);
  for (auto [name, product] : {std::pair{"a", "RTX-3090"}, {"b", "RTX-4090"}, {"c", "RTX-3090"},
                               {"d", ""}, {"other", "A100"}}) {
    in.nodes[name].name = name;
    if (product[0] != 0) in.nodes[name].labels["nvidia.com/gpu.product"] = product;
  }
  AvailabilityList list = BuildAvailability(in, plan);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].gpu_products, (std::vector<std::string>{"RTX-3090", "RTX-4090"}));
}

}  // namespace
}  // namespace labkube::scheduler
