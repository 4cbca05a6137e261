#include "lib/clock.h"

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace labkube {
namespace {

TEST(RealClockTest, NowFollowsWallClock) {
  absl::Time before = absl::Now();
  absl::Time now = Clock::Real().Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, absl::Now());
}

TEST(RealClockTest, SleepForSleeps) {
  absl::Time start = absl::Now();
  Clock::Real().SleepFor(absl::Milliseconds(20));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

TEST(RealClockTest, AwaitWithTimeoutReturnsConditionValue) {
  absl::Mutex mu;
  bool flag = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(Clock::Real().AwaitWithTimeout(mu, absl::Condition(&flag), absl::Milliseconds(10)));
  flag = true;
  EXPECT_TRUE(Clock::Real().AwaitWithTimeout(mu, absl::Condition(&flag), absl::Seconds(10)));
}

}  // namespace
}  // namespace labkube
