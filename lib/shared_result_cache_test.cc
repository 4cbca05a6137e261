#include "lib/shared_result_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "lib/testing/fake_clock.h"

namespace labkube {
namespace {

TEST(SharedResultCacheTest, AnswersFromTheResultWhileFresh) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(1));
  int calls = 0;
  auto compute = [&]() -> absl::StatusOr<int> { return ++calls; };
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 1);
  clock.Advance(absl::Milliseconds(999));
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 1);
  EXPECT_EQ(*cache.GetOrCompute("b", compute), 2);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 3);
}

TEST(SharedResultCacheTest, ErrorsAreNotKept) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(1));
  int calls = 0;
  auto failing = [&]() -> absl::StatusOr<int> {
    ++calls;
    return absl::UnavailableError("down");
  };
  EXPECT_FALSE(cache.GetOrCompute("a", failing).ok());
  EXPECT_FALSE(cache.GetOrCompute("a", failing).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(SharedResultCacheTest, OnlyResultsThatMayBeKeptAreReusedOverTime) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(1), [](const int& v) { return v >= 3; });
  int calls = 0;
  auto compute = [&]() -> absl::StatusOr<int> { return ++calls; };
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 1);
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 2);
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 3);
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 3);
}

TEST(SharedResultCacheTest, InvalidateForcesAFreshRead) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(10));
  int calls = 0;
  auto compute = [&]() -> absl::StatusOr<int> { return ++calls; };
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 1);
  cache.Invalidate("a");
  EXPECT_EQ(*cache.GetOrCompute("a", compute), 2);
}

TEST(SharedResultCacheTest, ConcurrentCallersShareOneComputation) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(1));
  std::atomic<int> calls{0};
  absl::Notification started, release;
  auto slow = [&]() -> absl::StatusOr<int> {
    ++calls;
    started.Notify();
    release.WaitForNotification();
    return 42;
  };
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  threads.emplace_back([&] { answered += *cache.GetOrCompute("k", slow) == 42; });
  started.WaitForNotification();
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { answered += *cache.GetOrCompute("k", slow) == 42; });
  }
  release.Notify();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(answered.load(), 9);
  EXPECT_EQ(calls.load(), 1);
}

TEST(SharedResultCacheTest, StaleEntriesArePruned) {
  testing::FakeClock clock;
  SharedResultCache<int> cache(clock, absl::Seconds(1));
  auto one = []() -> absl::StatusOr<int> { return 1; };
  for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(cache.GetOrCompute(k, one).ok());
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(cache.GetOrCompute("d", one).ok());
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace labkube
