#include "services/scheduler/planner.h"

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labkube::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kGi = int64_t{1} << 30;

MachineType Type(const std::string& name, int64_t cpu, int64_t mem_gi, int64_t gpus,
                 int32_t available) {
  MachineType t;
  t.name = name;
  t.available = available;
  t.gpu.count = gpus;
  t.resources.cpu_milli = cpu * 1000;
  t.resources.memory_bytes = mem_gi * kGi;
  if (gpus > 0) t.resources.extended["nvidia.com/gpu"] = gpus;
  return t;
}

NodeInfo Node(const std::string& name, int64_t cpu, int64_t mem_gi, int64_t gpus) {
  NodeInfo n;
  n.name = name;
  n.ready = true;
  n.allocatable.cpu_milli = cpu * 1000;
  n.allocatable.memory_bytes = mem_gi * kGi;
  if (gpus > 0) n.allocatable.extended["nvidia.com/gpu"] = gpus;
  return n;
}

SlotPod Pod(SlotRole role, const std::string& name, const std::string& type,
            const std::string& node, bool running = true) {
  SlotPod p;
  p.role = role;
  p.ns = "labkube-system";
  p.name = name;
  p.uid = "uid-" + name;
  p.group = "gpu";
  p.type = type;
  p.node = node;
  p.running = running;
  return p;
}

// Two 2-GPU nodes serving rtx3090-x2 (1 slot) and rtx3090-x1 (2 slots), as in the README.
PlannerInput TwoNodeLab() {
  PlannerInput in;
  MachineGroup g;
  g.machine_name = "gpu-machines";
  g.group = "gpu";
  g.types = {Type("rtx3090-x2", 8, 32, 2, 1), Type("rtx3090-x1", 4, 16, 1, 2)};
  g.pool = {{"node-a", PoolMode::kReady, true, {"rtx3090-x2", "rtx3090-x1"}},
            {"node-b", PoolMode::kReady, false, {"rtx3090-x2", "rtx3090-x1"}}};
  in.groups.push_back(g);
  in.nodes["node-a"] = Node("node-a", 32, 128, 2);
  in.nodes["node-b"] = Node("node-b", 32, 128, 2);
  return in;
}

int Count(const Plan& plan, const std::string& type, const std::string& node) {
  return std::count_if(plan.create.begin(), plan.create.end(), [&](const Placement& p) {
    return p.type == type && p.node == node;
  });
}

const TypeStatus& Status(const Plan& plan, const std::string& type) {
  for (const TypeStatus& t : plan.groups.at(0).types) {
    if (t.type == type) return t;
  }
  ADD_FAILURE() << "no status for " << type;
  static TypeStatus none;
  return none;
}

TEST(PlannerTest, PacksMixedTypesSoEverySlotFits) {
  Plan plan = ComputePlan(TwoNodeLab());
  ASSERT_EQ(plan.create.size(), 3u);
  // The 2-GPU slot takes one whole node, the two 1-GPU slots share the other.
  EXPECT_EQ(Count(plan, "rtx3090-x2", "node-a") + Count(plan, "rtx3090-x2", "node-b"), 1);
  std::string big = Count(plan, "rtx3090-x2", "node-a") == 1 ? "node-a" : "node-b";
  std::string other = big == "node-a" ? "node-b" : "node-a";
  EXPECT_EQ(Count(plan, "rtx3090-x1", other), 2);
  EXPECT_EQ(Status(plan, "rtx3090-x2").fits, 1);
  EXPECT_EQ(Status(plan, "rtx3090-x1").fits, 2);
  EXPECT_EQ(Status(plan, "rtx3090-x1").reserved, 0);  // created, not yet running
  EXPECT_THAT(plan.groups[0].problems, IsEmpty());
  EXPECT_EQ(plan.node_owner.at("node-a"), "gpu");
}

TEST(PlannerTest, KeepsRunningReservationsAndRemovesExcess) {
  PlannerInput in = TwoNodeLab();
  in.groups[0].types[1].available = 1;  // scaled down from 2
  in.pods = {Pod(SlotRole::kReservation, "r1", "rtx3090-x1", "node-b"),
             Pod(SlotRole::kReservation, "r2", "rtx3090-x1", "node-b"),
             Pod(SlotRole::kReservation, "r3", "rtx3090-x2", "node-a")};
  Plan plan = ComputePlan(in);
  EXPECT_THAT(plan.create, IsEmpty());
  ASSERT_EQ(plan.remove.size(), 1u);
  EXPECT_EQ(plan.remove[0].name, "r2");
  EXPECT_EQ(Status(plan, "rtx3090-x1").reserved, 1);
  EXPECT_EQ(Status(plan, "rtx3090-x2").reserved, 1);
}

TEST(PlannerTest, GuestsAndClaimsAreUsedAndTakeRoom) {
  PlannerInput in = TwoNodeLab();
  in.pods = {Pod(SlotRole::kGuest, "g1", "rtx3090-x2", "node-a")};
  in.pods[0].claim_id = "c1";
  in.claims = {{"c2", "gpu", "rtx3090-x1", "node-b"}};
  Plan plan = ComputePlan(in);
  // x2 is fully used; one x1 is claimed, one more fits beside it on node-b.
  EXPECT_EQ(Count(plan, "rtx3090-x2", "node-a") + Count(plan, "rtx3090-x2", "node-b"), 0);
  EXPECT_EQ(Count(plan, "rtx3090-x1", "node-b"), 1);
  EXPECT_EQ(Status(plan, "rtx3090-x2").used, 1);
  EXPECT_EQ(Status(plan, "rtx3090-x1").used, 1);
  EXPECT_EQ(Status(plan, "rtx3090-x1").fits, 2);
}

TEST(PlannerTest, FinishedGuestsFreeTheirSlot) {
  PlannerInput in = TwoNodeLab();
  in.pods = {Pod(SlotRole::kGuest, "g1", "rtx3090-x2", "node-a")};
  in.pods[0].finished = true;
  Plan plan = ComputePlan(in);
  EXPECT_EQ(Status(plan, "rtx3090-x2").used, 0);
  EXPECT_EQ(plan.create.size(), 3u);
}

TEST(PlannerTest, MaintenanceAndNotReadyNodesGetNoReservation) {
  PlannerInput in = TwoNodeLab();
  in.groups[0].pool[0].mode = PoolMode::kMaintenance;
  in.nodes["node-b"].ready = false;
  in.pods = {Pod(SlotRole::kReservation, "r1", "rtx3090-x2", "node-a")};
  Plan plan = ComputePlan(in);
  EXPECT_THAT(plan.create, IsEmpty());
  ASSERT_EQ(plan.remove.size(), 1u);
  EXPECT_EQ(plan.remove[0].reason, "node unavailable");
  EXPECT_EQ(plan.groups[0].pool[0].condition, NodeCondition::kMaintenance);
  EXPECT_EQ(plan.groups[0].pool[1].condition, NodeCondition::kNotReady);
  EXPECT_EQ(Status(plan, "rtx3090-x2").fits, 0);
  EXPECT_THAT(Status(plan, "rtx3090-x2").ready_nodes, IsEmpty());
}

TEST(PlannerTest, OtherPodsReduceCapacity) {
  PlannerInput in = TwoNodeLab();
  in.nodes["node-a"].used_by_others.extended["nvidia.com/gpu"] = 2;
  in.nodes["node-b"].used_by_others.cpu_milli = 30000;
  Plan plan = ComputePlan(in);
  EXPECT_THAT(plan.create, IsEmpty());
  EXPECT_EQ(Status(plan, "rtx3090-x2").fits, 0);
}

TEST(PlannerTest, NodePodCountLimitsSlots) {
  PlannerInput in;
  MachineGroup g;
  g.machine_name = "m";
  g.group = "cpu";
  g.types = {Type("tiny", 0, 0, 0, 10)};
  g.types[0].resources.cpu_milli = 100;
  g.pool = {{"a", PoolMode::kReady, false, {"tiny"}}, {"b", PoolMode::kReady, false, {"tiny"}}};
  in.groups.push_back(g);
  in.nodes["a"] = Node("a", 64, 256, 0);
  in.nodes["a"].allocatable.extended["pods"] = 4;
  in.nodes["a"].used_by_others.extended["pods"] = 1;  // one other pod runs there
  in.nodes["b"] = Node("b", 64, 256, 0);
  in.nodes["b"].allocatable.extended["pods"] = 5;
  Plan plan = ComputePlan(in);
  // Best fit would pile every slot onto one node; the pod count stops it at 3 + 5.
  EXPECT_EQ(Count(plan, "tiny", "a"), 3);
  EXPECT_EQ(Count(plan, "tiny", "b"), 5);
  EXPECT_EQ(Status(plan, "tiny").fits, 8);
}

TEST(PlannerTest, BadSpecsBecomeProblemsNamingTheCulprit) {
  PlannerInput in = TwoNodeLab();
  MachineGroup second;
  second.machine_name = "zz-other";
  second.group = "other";
  second.types = {Type("huge", 64, 1024, 16, 1), Type("cpu-small", 2, 4, 0, 1)};
  second.pool = {{"node-a", PoolMode::kReady, false, {"huge"}},
                 {"node-c", PoolMode::kReady, false, {"huge", "nonexistent"}}};
  in.groups.push_back(second);
  in.nodes["node-c"] = Node("node-c", 16, 64, 0);
  Plan plan = ComputePlan(in);
  ASSERT_EQ(plan.groups.size(), 2u);
  const auto& problems = plan.groups[1].problems;
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_THAT(problems[0], HasSubstr("node node-a is already in machine group gpu"));
  EXPECT_THAT(problems[1], HasSubstr("names machine type nonexistent"));
  EXPECT_THAT(problems[1], HasSubstr("declared: huge, cpu-small"));
  EXPECT_THAT(problems[2], HasSubstr("machine type huge fits on none of its nodes (node-c)"));
  EXPECT_THAT(problems[3], HasSubstr("machine type cpu-small is served by no nodePool entry"));
  EXPECT_EQ(plan.node_owner.at("node-a"), "gpu");
  EXPECT_EQ(plan.node_owner.at("node-c"), "other");
}

TEST(PlannerTest, DeletedGroupLosesItsReservations) {
  PlannerInput in = TwoNodeLab();
  in.pods = {Pod(SlotRole::kReservation, "r1", "rtx3090-x2", "node-a")};
  in.groups[0].deleting = true;
  Plan plan = ComputePlan(in);
  EXPECT_THAT(plan.groups, IsEmpty());
  ASSERT_EQ(plan.remove.size(), 1u);
  EXPECT_EQ(plan.remove[0].reason, "machine group deleted");
}

TEST(PlannerTest, RefusedGuestsCountAsWaiting) {
  PlannerInput in = TwoNodeLab();
  in.refused[TypeKey("gpu", "rtx3090-x2")] = 3;
  in.pods = {Pod(SlotRole::kGuest, "g1", "rtx3090-x1", "node-b", /*running=*/false)};
  Plan plan = ComputePlan(in);
  EXPECT_EQ(Status(plan, "rtx3090-x2").waiting, 3);
  EXPECT_EQ(Status(plan, "rtx3090-x1").waiting, 1);
  EXPECT_THAT(Status(plan, "rtx3090-x1").nodes, ElementsAre("node-a", "node-b"));
}

}  // namespace
}  // namespace labkube::scheduler

namespace labkube::scheduler {
namespace {

WaitingPod Waiter(const std::string& ns, const std::string& name, const std::string& type,
                  int created) {
  WaitingPod w;
  w.ns = ns;
  w.name = name;
  w.uid = "uid-" + name;
  w.group = "gpu";
  w.type = type;
  w.created = absl::FromUnixSeconds(1'800'000'000 + created);
  return w;
}

TEST(PlannerQueueTest, RunningReservationsGoToWaitersInQueueOrder) {
  PlannerInput in = TwoNodeLab();
  in.pods.push_back(Pod(SlotRole::kReservation, "r1", "rtx3090-x1", "node-a"));
  in.pods.push_back(Pod(SlotRole::kReservation, "r2", "rtx3090-x1", "node-a"));
  SlotPod held = Pod(SlotRole::kGuest, "g1", "rtx3090-x1", "node-b");
  held.ns = "lab-a";
  in.pods.push_back(held);
  in.waiting = {Waiter("lab-a", "a1", "rtx3090-x1", 1), Waiter("lab-a", "a2", "rtx3090-x1", 2),
                Waiter("lab-b", "b1", "rtx3090-x1", 3)};
  in.groups[0].types[0].available = 0;  // x1 only
  in.groups[0].types[1].available = 3;
  Plan plan = ComputePlan(in);
  ASSERT_EQ(plan.handover.size(), 2u);
  // lab-b holds nothing, lab-a one slot: b1 first, then a1; a2 waits.
  EXPECT_EQ(plan.handover[0].pod.name, "b1");
  EXPECT_EQ(plan.handover[1].pod.name, "a1");
  EXPECT_EQ(plan.handover[0].node, "node-a");
  EXPECT_FALSE(plan.handover[0].reservation.uid.empty());
  EXPECT_NE(plan.handover[0].reservation.uid, plan.handover[1].reservation.uid);
  EXPECT_THAT(plan.create, IsEmpty());
  EXPECT_THAT(plan.remove, IsEmpty());  // handed over, not removed
  const TypeStatus& ts = Status(plan, "rtx3090-x1");
  EXPECT_EQ(ts.waiting, 1);
  ASSERT_EQ(ts.queue.size(), 1u);
  EXPECT_EQ(ts.queue[0].name, "a2");
  EXPECT_EQ(ts.reserved, 0);
  EXPECT_EQ(ts.used, 3);
}

TEST(PlannerQueueTest, AFreedSlotGoesToTheWaiterWithoutANewReservation) {
  PlannerInput in = TwoNodeLab();  // nothing reserved yet: every slot is room
  in.waiting = {Waiter("lab-a", "a1", "rtx3090-x2", 1)};
  Plan plan = ComputePlan(in);
  ASSERT_EQ(plan.handover.size(), 1u);
  EXPECT_TRUE(plan.handover[0].reservation.name.empty());
  EXPECT_EQ(Count(plan, "rtx3090-x2", "node-a") + Count(plan, "rtx3090-x2", "node-b"), 0);
  // The x2 slot took one node; x1 keeps its two slots on the other.
  EXPECT_EQ(Count(plan, "rtx3090-x1", "node-a") + Count(plan, "rtx3090-x1", "node-b"), 2);
}

TEST(PlannerQueueTest, NoSlotNoHandover) {
  PlannerInput in = TwoNodeLab();
  SlotPod g = Pod(SlotRole::kGuest, "g1", "rtx3090-x2", "node-a");
  g.ns = "lab-a";
  in.pods.push_back(g);
  in.waiting = {Waiter("lab-b", "b1", "rtx3090-x2", 1)};
  Plan plan = ComputePlan(in);
  EXPECT_THAT(plan.handover, IsEmpty());
  EXPECT_EQ(Status(plan, "rtx3090-x2").waiting, 1);
}

}  // namespace
}  // namespace labkube::scheduler

namespace labkube::scheduler {
namespace {

TEST(PlannerQueueTest, EstimatesOnlyWithATimeLimit) {
  PlannerInput in = TwoNodeLab();
  in.now = absl::FromUnixSeconds(1'800'000'000);
  SlotPod g = Pod(SlotRole::kGuest, "g1", "rtx3090-x2", "node-a");
  g.ns = "lab-a";
  g.started = in.now - absl::Hours(1);
  in.pods.push_back(g);
  in.groups[0].types[0].available = 1;
  in.waiting = {Waiter("lab-b", "b1", "rtx3090-x2", 1), Waiter("lab-c", "c1", "rtx3090-x2", 2)};
  EXPECT_TRUE(Status(ComputePlan(in), "rtx3090-x2").latest_start.empty());
  in.groups[0].types[0].max_runtime = absl::Hours(8);
  Plan plan = ComputePlan(in);
  const TypeStatus& ts = Status(plan, "rtx3090-x2");
  ASSERT_EQ(ts.latest_start.size(), 2u);
  EXPECT_EQ(ts.latest_start[0], g.started + absl::Hours(8) + kRuntimeGrace);
  EXPECT_EQ(ts.latest_start[1], ts.latest_start[0] + absl::Hours(8) + kRuntimeGrace);
}

}  // namespace
}  // namespace labkube::scheduler
