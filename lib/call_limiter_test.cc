#include "lib/call_limiter.h"

#include <vector>

#include "gtest/gtest.h"

namespace labkube {
namespace {

TEST(CallLimiterTest, BoundsEachCallerAndTheTotal) {
  CallLimiter limiter(/*total=*/3, /*per_caller=*/2);
  std::vector<CallLimiter::Slot> held;
  for (int i = 0; i < 2; ++i) {
    auto s = limiter.Acquire("a");
    ASSERT_TRUE(s.ok());
    held.push_back(*std::move(s));
  }
  auto third = limiter.Acquire("a");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("a already has 2 watch streams open"), std::string::npos);
  auto b = limiter.Acquire("b");
  ASSERT_TRUE(b.ok()) << "another caller is not starved";
  auto c = limiter.Acquire("c");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(c.status().message().find("already has 3 watch streams open"), std::string::npos);
  held.clear();
  EXPECT_EQ(limiter.open(), 1);
  EXPECT_TRUE(limiter.Acquire("a").ok()) << "slots come back when streams end";
}

TEST(CallLimiterTest, CallerIsTheIdentityElseTheAddressWithoutPort) {
  EXPECT_EQ(CallerOf("ipv4:10.0.0.7:53211", ""), "ipv4:10.0.0.7");
  EXPECT_EQ(CallerOf("ipv6:[::1]:53211", ""), "ipv6:[::1]");
  EXPECT_EQ(CallerOf("unix:/run/x.sock", ""), "unix:/run/x.sock");
  EXPECT_EQ(CallerOf("ipv4:10.0.0.7:53211", "labkube-gateway"), "labkube-gateway");
}

}  // namespace
}  // namespace labkube
