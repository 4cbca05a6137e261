#include "services/scheduler/claim_handler.h"

#include <atomic>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

class ClaimHandlerTest : public ::testing::Test {
 protected:
  ClaimHandlerTest()
      : client_(clock_), state_(clock_, absl::Seconds(30), "labkube-system", signer_),
        handler_(client_, state_, "labkube-system", [this] { return leading_.load(); }) {
    state_.OnMachine(std::make_shared<rapidjson::Document>(Json(R"({"metadata":{"name":"m"},
        "spec":{"nodePool":[{"name":"node-a","mode":"ready","machineType":[{"name":"x1"}]}],
        "machineTypes":[{"name":"x1","spec":{"cpu":"1","memory":"1Gi"},"available":2}]}})")));
    state_.OnNode(std::make_shared<rapidjson::Document>(Json(R"({"metadata":{"name":"node-a"},
        "status":{"allocatable":{"cpu":"8","memory":"8Gi"},
        "conditions":[{"type":"Ready","status":"True"}]}})")));
    for (const char* name : {"r1", "r2"}) AddReservation(name);
  }

  void AddReservation(const std::string& name) {
    auto created = client_.Create(res::Pods(), "labkube-system", Json(absl::StrFormat(R"({
        "metadata":{"name":"%s","labels":{"labkube.io/pod-role":"reservation",
        "labkube.io/machine-group":"m","labkube.io/machine-type":"x1"}},
        "spec":{"nodeName":"node-a"},"status":{"phase":"Running"}})", name)));
    ASSERT_TRUE(created.ok()) << created.status();
    state_.OnPod(*created);
  }

  ClaimQuery Query(const std::string& uid, bool dry_run = false) {
    return ClaimQuery{"m", "x1", "ns", "p", "", uid, dry_run};
  }

  testing::FakeClock clock_;
  kube::testing::FakeClient client_;
  ClaimSigner signer_ = *ClaimSigner::Create(std::string(32, 't'));
  std::atomic<bool> leading_{true};
  SchedulerState state_;
  ClaimHandler handler_;
};

TEST_F(ClaimHandlerTest, DeletesExactlyTheClaimedReservation) {
  auto d = handler_.Claim(Query("a"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(client_.Get(res::Pods(), "labkube-system", d->record.reservation_pod).status().code(),
            absl::StatusCode::kNotFound);
  auto pods = client_.List(res::Pods(), "labkube-system", {});
  EXPECT_EQ(pods->items().Size(), 1u);
}

TEST_F(ClaimHandlerTest, AReplicaThatLostItsLeaseDeletesNothing) {
  leading_ = false;
  auto d = handler_.Claim(Query("a"));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client_.CallCount("Delete"), 0);
  EXPECT_TRUE(state_.Snapshot().claims.empty());
}

TEST_F(ClaimHandlerTest, DryRunDeletesNothing) {
  ASSERT_TRUE(handler_.Claim(Query("a", true)).ok());
  EXPECT_EQ(client_.List(res::Pods(), "labkube-system", {})->items().Size(), 2u);
  EXPECT_EQ(client_.CallCount("Delete"), 0);
}

TEST_F(ClaimHandlerTest, ConflictGivesTheClaimBackAndTriesAnother) {
  client_.InjectError("Delete", absl::AbortedError("precondition failed: UID mismatch"));
  auto d = handler_.Claim(Query("a"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(client_.CallCount("Delete"), 2);
  EXPECT_EQ(state_.Snapshot().claims.size(), 1u);
}

TEST_F(ClaimHandlerTest, DeadApiServerIsUnavailableAndLosesNothing) {
  client_.InjectError("Delete", absl::UnavailableError("connection refused"), 5);
  auto d = handler_.Claim(Query("a"));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(state_.Snapshot().claims.empty());
  client_.ClearInjectedErrors();
  EXPECT_TRUE(handler_.Claim(Query("b")).ok());
  EXPECT_TRUE(handler_.Claim(Query("c")).ok());
}

}  // namespace
}  // namespace labkube::scheduler
