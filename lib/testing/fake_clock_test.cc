#include "lib/testing/fake_clock.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "lib/testing/wait_until.h"

namespace labkube::testing {
namespace {

TEST(FakeClockTest, NowMovesOnlyOnAdvance) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
}

TEST(FakeClockTest, AdvanceWakesSleeper) {
  FakeClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.SleepFor(absl::Seconds(10));
    woke = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return clock.NumWaiters() == 1; }));
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(woke.load());
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(WaitUntil([&] { return woke.load(); }));
  sleeper.join();
  EXPECT_EQ(clock.NumWaiters(), 0);
  EXPECT_EQ(clock.RequestedWaits(), std::vector<absl::Duration>{absl::Seconds(10)});
}

TEST(FakeClockTest, AwaitWithTimeoutWakesOnCondition) {
  FakeClock clock;
  absl::Mutex mu;
  bool flag = false;
  std::atomic<bool> result{false};
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithTimeout(mu, absl::Condition(&flag), absl::Hours(1));
  });
  ASSERT_TRUE(WaitUntil([&] { return clock.NumWaiters() == 1; }));
  {
    absl::MutexLock lock(&mu);
    flag = true;
  }
  waiter.join();
  EXPECT_TRUE(result.load());
}

TEST(FakeClockTest, AwaitWithTimeoutExpiresOnAdvance) {
  FakeClock clock;
  absl::Mutex mu;
  bool flag = false;
  std::atomic<bool> done{false};
  std::atomic<bool> result{true};
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithTimeout(mu, absl::Condition(&flag), absl::Seconds(3));
    done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return clock.NumWaiters() == 1; }));
  clock.Advance(absl::Seconds(3));
  EXPECT_TRUE(WaitUntil([&] { return done.load(); }));
  waiter.join();
  EXPECT_FALSE(result.load());
}

TEST(WaitUntilTest, TimesOut) {
  EXPECT_FALSE(WaitUntil([] { return false; }, absl::Milliseconds(5)));
  EXPECT_TRUE(WaitUntil([] { return true; }, absl::Milliseconds(5)));
}

}  // namespace
}  // namespace labkube::testing
