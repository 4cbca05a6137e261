// The scheduler binary against the local control plane: the handover of reserved slots over
// gRPC (Claim), guests that use them, claim TTLs, and many concurrent claims.
#include <latch>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/scheduler/scheduler_lab.h"

namespace labkube::it {
namespace {

using ::testing::UnorderedElementsAre;

std::multiset<std::string> Nodes(const std::vector<PodInfo>& pods) {
  std::multiset<std::string> out;
  for (const PodInfo& p : pods) out.insert(p.node);
  return out;
}

std::vector<std::string> Requirements(const api::ClaimResponse& r) {
  std::vector<std::string> out;
  for (const auto& req : r.node_affinity()) {
    out.push_back(
        absl::StrCat(req.key(), " ", req.operator_(), " ", absl::StrJoin(req.values(), ",")));
  }
  return out;
}

std::vector<std::string> Tolerations(const api::ClaimResponse& r) {
  std::vector<std::string> out;
  for (const auto& t : r.tolerations()) {
    out.push_back(absl::StrCat(t.key(), " ", t.operator_(), " ", t.value(), " ", t.effect()));
  }
  return out;
}

class ClaimTest : public SchedulerLabTest {
 protected:
  // True if the group/type has no reservation pod during the whole `window`.
  bool StaysWithoutReservations(const std::string& group, const std::string& type,
                                absl::Duration window) {
    return !WaitFor([&] { return !Reservations(group, type).empty(); }, window);
  }
};

// Issue 3: a claim hands the reserved slot to a guest built from the answer; the guest runs on
// the claimed node; when it leaves, the slot is locked again.
TEST_F(ClaimTest, GuestGetsTheClaimedSlotAndTheSlotIsRelockedWhenItLeaves) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  SchedulerProcess* s = StartScheduler("claim");
  ASSERT_NE(s, nullptr);
  auto stub = Stub(*s);
  ASSERT_TRUE(WaitReservations("gpu-machines", "rtx3090-x2", 1));
  ASSERT_TRUE(WaitUsage(*stub, "gpu-machines", "rtx3090-x2", 1, 0));
  std::string slot_node = Reservations("gpu-machines", "rtx3090-x2")[0].node;

  api::ClaimResponse claim, replay;
  api::ClaimRequest request = ClaimRequest("gpu-machines", "rtx3090-x2", "trainer");
  grpc::Status st = Claim(*stub, request, &claim);
  ASSERT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  // The API server retries a webhook call with the same admission uid: same answer.
  st = Claim(*stub, request, &replay);
  ASSERT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  EXPECT_EQ(replay.claim_id(), claim.claim_id());
  EXPECT_EQ(replay.node(), claim.node());
  EXPECT_EQ(claim.node(), slot_node);
  EXPECT_FALSE(claim.claim_id().empty());
  EXPECT_FALSE(claim.dry_run());
  using StringMap = std::map<std::string, std::string>;
  StringMap want_resources{{"cpu", "8000m"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "2"}};
  EXPECT_EQ(StringMap(claim.requests().begin(), claim.requests().end()), want_resources);
  EXPECT_EQ(StringMap(claim.limits().begin(), claim.limits().end()), want_resources);
  EXPECT_THAT(
      Requirements(claim),
      UnorderedElementsAre("labkube.io/rtx3090-x2 In gpu-machines", "labkube.io/node-pool In ready",
                           "nvidia.com/gpu.product In NVIDIA-GeForce-RTX-3090",
                           absl::StrCat("kubernetes.io/hostname In ", slot_node)));
  EXPECT_THAT(Tolerations(claim),
              UnorderedElementsAre("labkube.io/rtx3090-x2 Equal gpu-machines NoSchedule",
                                   "labkube.io/rtx3090-x1 Equal gpu-machines NoSchedule"));
  EXPECT_EQ(claim.annotations().at("labkube.io/claim"), claim.claim_id());
  // The reservation pod was deleted at once: its GPUs wait for the guest.
  EXPECT_TRUE(Reservations("gpu-machines", "rtx3090-x2").empty());

  ASSERT_NO_FATAL_FAILURE(CreateGuest("trainer", "gpu-machines", "rtx3090-x2", claim));
  EXPECT_EQ(WaitGuestRunning("trainer"), slot_node);
  EXPECT_TRUE(WaitUsage(*stub, "gpu-machines", "rtx3090-x2", 0, 1));
  {
    grpc::ClientContext ctx;
    api::ListMachineTypesRequest req;
    req.set_group("gpu-machines");
    api::ListMachineTypesResponse list;
    ASSERT_TRUE(stub->ListMachineTypes(&ctx, req, &list).ok());
    std::map<std::string, int> used;
    for (const api::MachineType& t : list.machine_types()) used[t.name()] = t.usage().used();
    EXPECT_EQ(used, (std::map<std::string, int>{
                        {"rtx3090-x2", 1}, {"rtx3090-x1", 0}, {"v100-x4", 0}, {"v100-x1", 0}}));
  }
  // While the guest holds the slot no reservation pod competes for it.
  EXPECT_TRUE(StaysWithoutReservations("gpu-machines", "rtx3090-x2", absl::Seconds(3)));
  EXPECT_EQ(Reservations("gpu-machines", "rtx3090-x1").size(), 2u);

  DeleteGuest("trainer");
  EXPECT_TRUE(WaitReservations("gpu-machines", "rtx3090-x2", 1));
  EXPECT_TRUE(WaitUsage(*stub, "gpu-machines", "rtx3090-x2", 1, 0));
}

// Issue 4: a claim whose guest never comes gives its slot back after the claim TTL.
TEST_F(ClaimTest, ClaimWithoutGuestExpiresAfterTtl) {
  ASSERT_NO_FATAL_FAILURE(ApplyLabMachines());
  SchedulerFlags flags;
  flags.claim_ttl_seconds = 3;
  SchedulerProcess* s = StartScheduler("ttl", flags);
  ASSERT_NE(s, nullptr);
  auto stub = Stub(*s);
  ASSERT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
  ASSERT_TRUE(WaitUsage(*stub, "cpu-machines", "cpu-small", 4, 0));

  api::ClaimResponse claim;
  grpc::Status st =
      Claim(*stub, ClaimRequest("cpu-machines", "cpu-small", "never-created"), &claim);
  absl::Time claimed = absl::Now();
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(Reservations("cpu-machines", "cpu-small").size(), 3u);
  EXPECT_TRUE(WaitUsage(*stub, "cpu-machines", "cpu-small", 3, 1, absl::Milliseconds(2500)))
      << "the claim holds its slot";

  EXPECT_TRUE(WaitUsage(*stub, "cpu-machines", "cpu-small", 4, 0));
  absl::Duration relocked = absl::Now() - claimed;
  std::cout << "slot re-locked " << absl::FormatDuration(relocked) << " after the claim (TTL 3s)\n";
  EXPECT_GE(relocked, absl::Milliseconds(2900)) << "the slot came back before the claim TTL";
  EXPECT_LE(relocked, absl::Seconds(15));
  EXPECT_TRUE(WaitReservations("cpu-machines", "cpu-small", 4));
}

// Queueing off: this burst checks the scheduler's refusals (what imperator did, and what a type
// with queueing: Disabled still does); tests/integration/injector/queue_test.cc has the queue.
constexpr char kBurstMachine[] = R"(
apiVersion: labkube.io/v1alpha1
kind: Machine
metadata: {name: it-burst}
spec:
  nodePool:
    - {name: cpu-a, mode: ready, machineType: [{name: cpu-4}]}
    - {name: gpu-3090-b, mode: ready, machineType: [{name: cpu-4}]}
  machineTypes:
    - {name: cpu-4, spec: {cpu: 4, memory: 8Gi}, available: 10, queueing: Disabled}
)";

struct ClaimOutcome {
  grpc::Status status;
  api::ClaimResponse response;
};

// Issue 5: 50 concurrent claims for 10 free slots: exactly 10 win, each its own slot; dry runs
// consume nothing.
TEST_F(ClaimTest, ConcurrentClaimsHandOutEachSlotOnce) {
  ASSERT_TRUE(ApplyYaml(kBurstMachine).ok());
  SchedulerProcess* s = StartScheduler("burst");
  ASSERT_NE(s, nullptr);
  auto stub = Stub(*s);
  ASSERT_TRUE(WaitReservations("it-burst", "cpu-4", 10));
  ASSERT_TRUE(WaitUsage(*stub, "it-burst", "cpu-4", 10, 0));
  std::vector<PodInfo> before = Reservations("it-burst", "cpu-4");
  // cpu-a (16 CPUs) is the tighter fit: it takes 4, gpu-3090-b the other 6.
  EXPECT_EQ(Nodes(before).count("cpu-a"), 4u);

  for (int i = 0; i < 10; ++i) {
    api::ClaimRequest req = ClaimRequest("it-burst", "cpu-4", absl::StrCat("dry-", i));
    req.set_dry_run(true);
    api::ClaimResponse r;
    grpc::Status st = Claim(*stub, req, &r);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(r.dry_run());
  }
  std::vector<PodInfo> after_dry = Reservations("it-burst", "cpu-4");
  ASSERT_EQ(after_dry.size(), 10u);
  std::set<std::string> uids_before, uids_after;
  for (const PodInfo& p : before) uids_before.insert(p.uid);
  for (const PodInfo& p : after_dry) uids_after.insert(p.uid);
  EXPECT_EQ(uids_after, uids_before) << "dry-run claims deleted reservation pods";
  auto t = GetType(*stub, "it-burst", "cpu-4");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->usage().used(), 0);

  constexpr int kClaims = 50;
  std::vector<ClaimOutcome> outcomes(kClaims);
  std::vector<api::ClaimRequest> requests;
  for (int i = 0; i < kClaims; ++i) {
    requests.push_back(ClaimRequest("it-burst", "cpu-4", absl::StrCat("burst-", i)));
  }
  std::latch start(kClaims);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClaims; ++i) {
    threads.emplace_back([&, i] {
      auto own = Stub(*s);  // a channel per caller, like separate API server replicas
      start.arrive_and_wait();
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      outcomes[i].status = own->Claim(&ctx, requests[i], &outcomes[i].response);
    });
  }
  for (std::thread& th : threads) th.join();

  std::map<grpc::StatusCode, int> codes;
  std::set<std::string> claim_ids;
  std::multiset<std::string> claimed_nodes;
  std::vector<int> winners;
  for (int i = 0; i < kClaims; ++i) {
    ++codes[outcomes[i].status.error_code()];
    if (!outcomes[i].status.ok()) {
      EXPECT_EQ(outcomes[i].status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << outcomes[i].status.error_message();
      continue;
    }
    winners.push_back(i);
    claim_ids.insert(outcomes[i].response.claim_id());
    claimed_nodes.insert(outcomes[i].response.node());
  }
  EXPECT_EQ(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], 40);
  ASSERT_EQ(codes[grpc::StatusCode::OK], 10);
  EXPECT_EQ(claim_ids.size(), winners.size()) << "a claim id was handed out twice";
  EXPECT_EQ(claimed_nodes, Nodes(before)) << "claims do not match the reserved slots per node";
  // Every reservation pod went to exactly one claim, and none came back for them.
  EXPECT_TRUE(Reservations("it-burst", "cpu-4").empty());
  EXPECT_TRUE(WaitUsage(*stub, "it-burst", "cpu-4", 0, 10));
  int waiting = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto usage = GetType(*stub, "it-burst", "cpu-4");
        waiting = usage.ok() ? usage->usage().waiting() : -1;
        return waiting == 40;
      },
      absl::Seconds(10)))
      << "refused guests count as waiting: have " << waiting << ", want 40";

  // Each winner's guest runs where its claim said.
  for (int i : winners) {
    ASSERT_NO_FATAL_FAILURE(
        CreateGuest(requests[i].pod_name(), "it-burst", "cpu-4", outcomes[i].response));
  }
  for (int i : winners) {
    std::string node = WaitGuestRunning(requests[i].pod_name());
    EXPECT_EQ(node, outcomes[i].response.node()) << requests[i].pod_name();
    if (node.empty()) break;  // one timeout is enough
  }
  EXPECT_TRUE(WaitUsage(*stub, "it-burst", "cpu-4", 0, 10));
  EXPECT_TRUE(StaysWithoutReservations("it-burst", "cpu-4", absl::Seconds(2)));
  for (int i : winners) DeleteGuest(requests[i].pod_name());
  EXPECT_TRUE(WaitReservations("it-burst", "cpu-4", 10));
  EXPECT_TRUE(WaitUsage(*stub, "it-burst", "cpu-4", 10, 0));
}

}  // namespace
}  // namespace labkube::it
