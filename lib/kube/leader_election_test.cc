#include "lib/kube/leader_election.h"

#include <atomic>
#include <memory>
#include <string>

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/kube/testing/golden.h"
#include "lib/testing/fake_clock.h"
#include "lib/testing/wait_until.h"

namespace labkube::kube {
namespace {

using testing::MatchesGolden;

using ::labkube::kube::testing::FakeClient;
using ::labkube::testing::FakeClock;
using ::labkube::testing::WaitUntil;

constexpr absl::Duration kRetry = absl::Seconds(2);

struct Counters {
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionTest() : client_(clock_) {}

  std::unique_ptr<LeaderElector> NewElector(const std::string& identity, Counters& counters) {
    LeaderElectionOptions options;
    options.ns = "labkube-system";
    options.name = "scheduler";
    options.identity = identity;
    options.on_started_leading = [&counters] { ++counters.started; };
    options.on_stopped_leading = [&counters] { ++counters.stopped; };
    auto elector = LeaderElector::Create(client_, options, clock_);
    EXPECT_TRUE(elector.ok()) << elector.status();
    return *std::move(elector);
  }

  // Waits until `electors` threads wait on the clock and at least `waits` waits were requested.
  void Settle(int electors, size_t waits) {
    ASSERT_TRUE(WaitUntil([&] {
      return clock_.NumWaiters() == electors && clock_.RequestedWaits().size() >= waits;
    }));
  }

  // Moves time forward by `d` (a multiple of the retry period) and waits until each of the
  // `electors` running electors has made its attempt(s) and is waiting again.
  void Step(absl::Duration d, int electors) {
    size_t before = clock_.RequestedWaits().size();
    clock_.Advance(d);
    Settle(electors, before + electors);
  }

  rapidjson::Document Lease() {
    auto lease = client_.Get(resources::Leases(), "labkube-system", "scheduler");
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *std::move(lease) : rapidjson::Document();
  }
  std::string Holder() { return std::string(json::GetString(Lease(), {"spec", "holderIdentity"})); }

  FakeClock clock_;
  FakeClient client_;
};

TEST_F(LeaderElectionTest, AcquiresAnAbsentLeaseAndWritesTheRecord) {
  Counters counters;
  auto a = NewElector("a", counters);
  a->Run();
  Settle(1, 1);
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(counters.started, 1);
  EXPECT_EQ(a->LeaderIdentity(), "a");
  rapidjson::Document lease = Lease();
  EXPECT_EQ(json::GetString(lease, {"spec", "holderIdentity"}), "a");
  EXPECT_EQ(json::GetInt(lease, {"spec", "leaseDurationSeconds"}), 15);
  EXPECT_EQ(json::GetString(lease, {"spec", "acquireTime"}), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(json::GetString(lease, {"spec", "renewTime"}), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(json::GetInt(lease, {"spec", "leaseTransitions"}, -1), 0);

  Step(kRetry, 1);  // renews
  lease = Lease();
  EXPECT_EQ(json::GetString(lease, {"spec", "renewTime"}), "2023-11-14T22:13:22.000000Z");
  EXPECT_EQ(json::GetString(lease, {"spec", "acquireTime"}), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(counters.started, 1);
}

// The new Lease as the json::NewObject/SetString code wrote it before it moved to
// kube::Builder; the typed build must write the same fields and values.
constexpr char kGoldenLease[] = R"json({
  "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
  "metadata": {"name": "scheduler", "namespace": "labkube-system"},
  "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
           "renewTime": "2023-11-14T22:13:20.000000Z",
           "acquireTime": "2023-11-14T22:13:20.000000Z", "leaseTransitions": 0}
})json";

TEST_F(LeaderElectionTest, TheNewLeaseMatchesTheGolden) {
  Counters counters;
  auto a = NewElector("a", counters);
  a->Run();
  Settle(1, 1);
  ASSERT_TRUE(a->IsLeader());
  std::vector<rapidjson::Document> created = client_.CreateBodies();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_TRUE(MatchesGolden(kGoldenLease, created[0]));
}

TEST_F(LeaderElectionTest, OnlyOneOfTwoLeads) {
  Counters ca, cb;
  auto a = NewElector("a", ca);
  auto b = NewElector("b", cb);
  a->Run();
  b->Run();
  Settle(2, 2);
  for (int i = 0; i < 12; ++i) {  // 24 s: longer than the lease duration
    EXPECT_NE(a->IsLeader(), b->IsLeader()) << "step " << i;
    Step(kRetry, 2);
  }
  LeaderElector& leader = a->IsLeader() ? *a : *b;
  std::string leader_id = a->IsLeader() ? "a" : "b";
  EXPECT_EQ(Holder(), leader_id);
  EXPECT_EQ(ca.started + cb.started, 1);
  EXPECT_EQ(ca.stopped + cb.stopped, 0);
  EXPECT_EQ(a->LeaderIdentity(), leader_id);
  EXPECT_EQ(b->LeaderIdentity(), leader_id);
  EXPECT_TRUE(leader.IsLeader());
}

TEST_F(LeaderElectionTest, StoppedLeaderReleasesAndTheOtherTakesOverAtOnce) {
  Counters ca, cb;
  auto a = NewElector("a", ca);
  a->Run();
  Settle(1, 1);
  ASSERT_TRUE(a->IsLeader());
  auto b = NewElector("b", cb);
  b->Run();
  Settle(2, 2);
  EXPECT_FALSE(b->IsLeader());

  a->Stop();
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(ca.stopped, 1);
  EXPECT_EQ(Holder(), "");

  Step(kRetry, 1);  // b's next retry, long before the lease would expire
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(cb.started, 1);
  rapidjson::Document lease = Lease();
  EXPECT_EQ(json::GetString(lease, {"spec", "holderIdentity"}), "b");
  EXPECT_EQ(json::GetInt(lease, {"spec", "leaseTransitions"}), 1);
  EXPECT_EQ(json::GetInt(lease, {"spec", "leaseDurationSeconds"}), 15);
}

TEST_F(LeaderElectionTest, LeaderThatCannotRenewStepsDownAfterTheRenewDeadline) {
  Counters ca;
  auto a = NewElector("a", ca);
  a->Run();
  Settle(1, 1);
  ASSERT_TRUE(a->IsLeader());

  client_.InjectError("Update", absl::UnavailableError("api server down"), /*times=*/-1);
  for (int i = 0; i < 4; ++i) {  // 8 s without a renewal: still within the 10 s deadline
    Step(kRetry, 1);
    EXPECT_TRUE(a->IsLeader()) << "step " << i;
  }
  EXPECT_EQ(ca.stopped, 0);
  Step(kRetry, 1);  // 10 s
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(ca.stopped, 1);

  client_.ClearInjectedErrors();
  Step(kRetry, 1);  // the record still names "a": it renews and leads again
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(ca.started, 2);
}

TEST_F(LeaderElectionTest, IsLeaderIsFalseOnceTheRenewDeadlinePasses) {
  Counters ca;
  auto a = NewElector("a", ca);
  a->Run();
  Settle(1, 1);
  ASSERT_TRUE(a->IsLeader());
  client_.InjectError("Update", absl::UnavailableError("down"), -1);
  clock_.Advance(absl::Seconds(10));  // one jump: the loop gets to run only once
  EXPECT_FALSE(a->IsLeader());
  Settle(1, 2);
}

TEST_F(LeaderElectionTest, TakesOverAnExpiredLeaseAfterTheLeaseDuration) {
  rapidjson::Document lease =
      json::NewObject("coordination.k8s.io/v1", "Lease", "labkube-system", "scheduler");
  json::SetString(lease, {"spec", "holderIdentity"}, "dead");
  json::SetInt(lease, {"spec", "leaseDurationSeconds"}, 15);
  json::SetString(lease, {"spec", "renewTime"}, "2020-01-01T00:00:00.000000Z");
  json::SetInt(lease, {"spec", "leaseTransitions"}, 4);
  ASSERT_TRUE(client_.Create(resources::Leases(), "labkube-system", lease).ok());

  Counters cb;
  auto b = NewElector("b", cb);
  b->Run();
  Settle(1, 1);
  EXPECT_FALSE(b->IsLeader());  // remote timestamps are not trusted: wait a full duration
  EXPECT_EQ(b->LeaderIdentity(), "dead");
  for (int i = 0; i < 7; ++i) {  // 14 s
    Step(kRetry, 1);
    EXPECT_FALSE(b->IsLeader()) << "step " << i;
  }
  Step(kRetry, 1);  // 16 s >= 15 s
  EXPECT_TRUE(b->IsLeader());
  rapidjson::Document now = Lease();
  EXPECT_EQ(json::GetString(now, {"spec", "holderIdentity"}), "b");
  EXPECT_EQ(json::GetInt(now, {"spec", "leaseTransitions"}), 5);
}

TEST_F(LeaderElectionTest, ConflictingWriteLeavesTheCandidateAFollower) {
  Counters ca;
  auto a = NewElector("a", ca);
  client_.InjectError("Create", absl::AlreadyExistsError("lost the race"), 1);
  a->Run();
  Settle(1, 1);
  EXPECT_FALSE(a->IsLeader());
  Step(kRetry, 1);
  EXPECT_TRUE(a->IsLeader());
  client_.InjectError("Update", absl::AbortedError("conflict"), 1);
  Step(kRetry, 1);
  EXPECT_TRUE(a->IsLeader());  // one failed renewal is within the deadline
  EXPECT_EQ(ca.started, 1);
}

TEST_F(LeaderElectionTest, RejectsBadOptions) {
  LeaderElectionOptions options;
  options.ns = "ns";
  options.name = "lease";
  EXPECT_EQ(LeaderElector::Create(client_, options, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);  // no identity
  options.identity = "me";
  EXPECT_TRUE(LeaderElector::Create(client_, options, clock_).ok());
  options.renew_deadline = absl::Seconds(20);
  EXPECT_FALSE(LeaderElector::Create(client_, options, clock_).ok());
  options.renew_deadline = absl::Seconds(10);
  options.retry_period = absl::Seconds(10);
  EXPECT_FALSE(LeaderElector::Create(client_, options, clock_).ok());
  options.retry_period = absl::Seconds(2);
  options.lease_duration = absl::Milliseconds(15500);
  EXPECT_FALSE(LeaderElector::Create(client_, options, clock_).ok());

  LeaderElector invalid(client_, LeaderElectionOptions{}, clock_);
  invalid.Run();  // logs and does nothing
  EXPECT_FALSE(invalid.IsLeader());
  EXPECT_EQ(client_.CallCount("Get"), 0);
}

TEST_F(LeaderElectionTest, StopWithoutRunAndTwice) {
  Counters ca;
  auto a = NewElector("a", ca);
  a->Stop();
  a->Run();  // no effect after Stop
  a->Stop();
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(client_.CallCount("Get"), 0);
}

}  // namespace
}  // namespace labkube::kube
