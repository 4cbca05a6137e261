// FakeClock: a Clock whose time moves only when a test calls Advance(). Sleepers and timed
// waits (SleepFor, AwaitWithTimeout) wake when the fake time reaches their deadline; timed waits
// also wake as soon as their condition holds. Test-only.
//
// Ownership: owned by the test, which passes it by reference to the code under test; it must
// outlive every thread that uses it.
// Thread safety: all methods are safe to call from many threads at once.
#ifndef LABKUBE_LIB_TESTING_FAKE_CLOCK_H_
#define LABKUBE_LIB_TESTING_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"

namespace labkube::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000));

  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_);
  void SleepFor(absl::Duration duration) override ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for `cond` (polling `mu` every real millisecond) until the fake time passes the
  // deadline.
  bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                        absl::Duration timeout) override ABSL_LOCKS_EXCLUDED(mu_);

  // Moves the time forward by `duration` and wakes the sleepers whose deadline has passed.
  void Advance(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_);

  // Threads currently blocked in SleepFor or AwaitWithTimeout.
  int NumWaiters() ABSL_LOCKS_EXCLUDED(mu_);
  // Every duration passed to SleepFor or AwaitWithTimeout so far, in call order.
  std::vector<absl::Duration> RequestedWaits() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Records a wait of `duration` and returns its deadline.
  absl::Time BeginWait(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_);
  void EndWait() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::testing

#endif  // LABKUBE_LIB_TESTING_FAKE_CLOCK_H_
