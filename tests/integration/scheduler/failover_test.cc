// The scheduler binary against the local control plane when things go wrong: nodes in
// maintenance or cordoned, the scheduler killed in the middle of a handover, the leader killed.
#include <signal.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "tests/integration/scheduler/scheduler_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
using ::testing::HasSubstr;

class FailoverTest : public SchedulerLabTest {
 protected:
  ::testing::AssertionResult WaitPoolCondition(const std::string& machine, const std::string& node,
                                               const std::string& condition) {
    return WaitMachine(machine, [&](const rapidjson::Value& m) {
      const rapidjson::Value* p = StatusPoolNode(m, node);
      return p != nullptr && json::GetString(*p, {"condition"}) == condition;
    });
  }

  ::testing::AssertionResult WaitPoolLabel(const std::string& node, const std::string& value) {
    std::string have;
    if (WaitFor([&] { return (have = Labels(GetNode(node))["labkube.io/node-pool"]) == value; },
                kConverge)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << node << " has labkube.io/node-pool=" << have << ", want " << value;
  }

  // Claims group/type and expects FAILED_PRECONDITION mentioning `node`.
  void ExpectNoSlotBecauseOf(api::Scheduler::Stub& stub, const std::string& group,
                             const std::string& type, const std::string& node) {
    api::ClaimResponse r;
    grpc::Status st = Claim(stub, ClaimRequest(group, type, UniqueName("refused")), &r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << st.error_message() << " node " << r.node();
    EXPECT_THAT(st.error_message(), HasSubstr(node));
  }
};

// Issue 6: a node in maintenance, then a cordoned (not ready) node: its reservations go, claims
// for its types fail with FAILED_PRECONDITION, status and node label say why; running guests stay.
TEST_F(FailoverTest, MaintenanceAndCordonedNodesHandOutNoSlots) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  SchedulerProcess* s = StartScheduler("maintenance");
  ASSERT_NE(s, nullptr);
  auto stub = Stub(*s);
  ASSERT_TRUE(WaitReservations("gpu-machines", "v100-x1", 4));
  ASSERT_TRUE(WaitReservations("gpu-machines", "v100-x4", 1));
  api::ClaimResponse claim;
  ASSERT_TRUE(Claim(*stub, ClaimRequest("gpu-machines", "v100-x1", "resident"), &claim).ok());
  ASSERT_NO_FATAL_FAILURE(CreateGuest("resident", "gpu-machines", "v100-x1", claim));
  ASSERT_EQ(WaitGuestRunning("resident"), "dgx-1");

  PatchMachine("gpu-machines",
               R"([{"op":"test","path":"/spec/nodePool/2/name","value":"dgx-1"},)"
               R"({"op":"replace","path":"/spec/nodePool/2/mode","value":"maintenance"}])");
  EXPECT_TRUE(WaitReservations("gpu-machines", "v100-x1", 0));
  EXPECT_TRUE(WaitReservations("gpu-machines", "v100-x4", 0));
  ExpectNoSlotBecauseOf(*stub, "gpu-machines", "v100-x1", "dgx-1");
  ExpectNoSlotBecauseOf(*stub, "gpu-machines", "v100-x4", "dgx-1");
  EXPECT_TRUE(WaitPoolCondition("gpu-machines", "dgx-1", "Maintenance"));
  EXPECT_TRUE(WaitPoolLabel("dgx-1", "maintenance"));
  EXPECT_TRUE(WaitUsage(*stub, "gpu-machines", "v100-x1", 0, 1)) << "the resident guest stays";
  EXPECT_EQ(WaitGuestRunning("resident"), "dgx-1");
  EXPECT_EQ(Reservations("gpu-machines", "rtx3090-x1").size(), 2u) << "other nodes unaffected";

  PatchMachine("gpu-machines",
               R"([{"op":"replace","path":"/spec/nodePool/2/mode","value":"ready"}])");
  EXPECT_TRUE(WaitReservations("gpu-machines", "v100-x1", 3));
  EXPECT_TRUE(WaitReservations("gpu-machines", "v100-x4", 1));
  EXPECT_TRUE(WaitPoolLabel("dgx-1", "ready"));

  // Cordoned: the scheduler treats an unschedulable node as not ready.
  ASSERT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  Cordon("cpu-a", true);
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 0));
  ExpectNoSlotBecauseOf(*stub, "cpu-machines", "cpu-small", "cpu-a");
  EXPECT_TRUE(WaitPoolCondition("cpu-machines", "cpu-a", "NotReady"));
  EXPECT_TRUE(WaitPoolLabel("cpu-a", "not-ready"));
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto t = GetType(*stub, "cpu-machines", "cpu-small");
        last = t.ok() ? t->ShortDebugString() : t.status().ToString();
        return t.ok() && t->ready_nodes_size() == 0 && t->usage().fits() == 0;
      },
      kConverge))
      << "a cordoned node serves no slot; last: " << last;

  Cordon("cpu-a", false);
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  EXPECT_TRUE(WaitPoolLabel("cpu-a", "ready"));
  EXPECT_TRUE(WaitPoolCondition("cpu-machines", "cpu-a", "Ready"));
}

// Two slots of half of cpu-a (16 CPUs): the node is full with two slot holders.
constexpr char kRestartMachine[] = R"(
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: it-restart}
spec:
  nodePool:
    - {name: cpu-a, mode: ready, machineType: [{name: cpu-half}]}
  machineTypes:
    - {name: cpu-half, spec: {cpu: 8, memory: 16Gi}, available: 2}
)";

// Issue 8: SIGKILL between a claim and its guest pod; the restarted scheduler (which lost the
// claim) converges to reservations = available - guests without duplicates, and makes room
// when the guest of the lost claim turns up after all on the then full node.
TEST_F(FailoverTest, KilledMidHandoverRestartConverges) {
  ASSERT_TRUE(ApplyYaml(kRestartMachine).ok());
  SchedulerProcess* first = StartScheduler("restart");
  ASSERT_NE(first, nullptr);
  auto stub = Stub(*first);
  ASSERT_TRUE(WaitReservations("it-restart", "cpu-half", 2));
  api::ClaimResponse settled, in_flight;
  ASSERT_TRUE(Claim(*stub, ClaimRequest("it-restart", "cpu-half", "settled"), &settled).ok());
  ASSERT_NO_FATAL_FAILURE(CreateGuest("settled", "it-restart", "cpu-half", settled));
  ASSERT_EQ(WaitGuestRunning("settled"), "cpu-a");
  ASSERT_TRUE(Claim(*stub, ClaimRequest("it-restart", "cpu-half", "late"), &in_flight).ok());
  ASSERT_TRUE(WaitReservations("it-restart", "cpu-half", 0));

  ASSERT_TRUE(first->process().Kill(SIGKILL));
  // Restarted in place (same pod name, so same identity: no wait for the Lease to expire).
  SchedulerFlags same;
  same.identity = first->identity();
  SchedulerProcess* second = StartScheduler("restart", same);
  ASSERT_NE(second, nullptr);
  stub = Stub(*second);
  EXPECT_TRUE(WaitReservations("it-restart", "cpu-half", 1)) << "available 2 - 1 guest";
  EXPECT_TRUE(WaitUsage(*stub, "it-restart", "cpu-half", 1, 1));
  // No duplicates or leaks: that is the only reservation pod in the namespace.
  kube::ListOptions all;
  all.label_selector = "labkube.io/pod-role=reservation";
  auto pods = client_->List(kube::resources::Pods(), kSystemNs, all);
  ASSERT_TRUE(pods.ok());
  EXPECT_EQ(pods->items().Size(), 1u);

  // The guest of the claim made before the kill arrives after all: cpu-a is full, so the
  // scheduler must give up the re-locked slot for it.
  ASSERT_NO_FATAL_FAILURE(CreateGuest("late", "it-restart", "cpu-half", in_flight));
  EXPECT_EQ(WaitGuestRunning("late"), "cpu-a");
  EXPECT_TRUE(WaitReservations("it-restart", "cpu-half", 0)) << "available 2 - 2 guests";
  EXPECT_TRUE(WaitUsage(*stub, "it-restart", "cpu-half", 0, 2));
  // Full: a third guest is told to wait in line, and gets no claim.
  api::ClaimResponse none;
  grpc::Status st = Claim(*stub, ClaimRequest("it-restart", "cpu-half", "third"), &none);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(none.queued());
  EXPECT_TRUE(none.claim_id().empty());
}

// Issue 9: two replicas; the leader is killed; the other takes over within 20 s.
TEST_F(FailoverTest, FollowerTakesOverWhenLeaderIsKilled) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  SchedulerProcess* leader = StartScheduler("leader");
  ASSERT_NE(leader, nullptr);
  SchedulerFlags not_ready;  // a follower is healthy but not ready
  not_ready.wait = SchedulerFlags::Wait::kHealthy;
  SchedulerProcess* follower = StartScheduler("follower", not_ready);
  ASSERT_NE(follower, nullptr);
  auto leader_stub = Stub(*leader);
  auto follower_stub = Stub(*follower);
  ASSERT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  EXPECT_FALSE(follower->Ready())
      << "a follower must not be ready (the Service routes to the leader)";
  api::ClaimResponse r;
  grpc::Status refused =
      Claim(*follower_stub, ClaimRequest("cpu-machines", "cpu-small", "to-follower"), &r);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_EQ(Reservations("cpu-machines", "cpu-small").size(), 4u);

  ASSERT_TRUE(leader->process().Kill(SIGKILL));
  absl::Time killed = absl::Now();
  bool took_over = WaitFor([&] { return follower->Ready(); }, absl::Seconds(30));
  absl::Duration takeover = absl::Now() - killed;
  std::cout << "follower ready " << absl::FormatDuration(takeover)
            << " after the leader was killed\n";
  RecordProperty("takeover_ms", static_cast<int>(absl::ToInt64Milliseconds(takeover)));
  ASSERT_TRUE(took_over);
  EXPECT_LE(takeover, absl::Seconds(20));

  api::ClaimResponse claim;
  grpc::Status st =
      Claim(*follower_stub, ClaimRequest("cpu-machines", "cpu-small", "after"), &claim);
  ASSERT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  EXPECT_EQ(claim.node(), "cpu-a");
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 3));
  ASSERT_NO_FATAL_FAILURE(CreateGuest("after", "cpu-machines", "cpu-small", claim));
  EXPECT_EQ(WaitGuestRunning("after"), "cpu-a");
  EXPECT_TRUE(WaitUsage(*follower_stub, "cpu-machines", "cpu-small", 3, 1));
  DeleteGuest("after");
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4)) << "the new leader re-locks";
}

}  // namespace
}  // namespace labkube::it
