#include "services/injector/testing/fake_claimer.h"

#include "gtest/gtest.h"

namespace labkube::injector::testing {
namespace {

TEST(FakeClaimerTest, SameUidSameClaimAndDryRunsConsumeNothing) {
  FakeClaimer claimer;
  ClaimRequest a{.group = "lab", .machine_type = "a100", .ns = "ns", .admission_uid = "u1"};
  ClaimRequest b = a;
  b.admission_uid = "u2";
  ClaimRequest dry = a;
  dry.dry_run = true;
  auto first = claimer.Claim(a, absl::InfiniteFuture());
  auto again = claimer.Claim(a, absl::InfiniteFuture());
  auto other = claimer.Claim(b, absl::InfiniteFuture());
  auto preview = claimer.Claim(dry, absl::InfiniteFuture());
  ASSERT_TRUE(first.ok() && again.ok() && other.ok() && preview.ok());
  EXPECT_EQ(first->claim_id, again->claim_id);
  EXPECT_NE(first->claim_id, other->claim_id);
  EXPECT_EQ(preview->claim_id, "dry-run");
  EXPECT_TRUE(preview->dry_run);
  EXPECT_EQ(first->annotations.at("labkube.io/claim"), first->claim_id);
  EXPECT_EQ(claimer.calls(), 4);
}

TEST(FakeClaimerTest, SetErrorFailsFollowingCalls) {
  FakeClaimer claimer;
  claimer.SetError(absl::ResourceExhaustedError("no slot"));
  EXPECT_EQ(claimer.Claim({}, absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kResourceExhausted);
  claimer.SetError(absl::OkStatus());
  EXPECT_TRUE(claimer.Claim({}, absl::InfiniteFuture()).ok());
}

}  // namespace
}  // namespace labkube::injector::testing
