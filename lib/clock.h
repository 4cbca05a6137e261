// Clock: the source of time for code that sleeps, backs off or stamps times, so that tests can
// substitute a FakeClock (lib/testing/fake_clock.h) and control time explicitly.
//
// Ownership: Clock::Real() is a process-wide singleton that is never destroyed; other clocks are
// owned by whoever creates them and passed to users by reference.
// Thread safety: implementations are safe to call from many threads at once.
#ifndef LABKUBE_LIB_CLOCK_H_
#define LABKUBE_LIB_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace labkube {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current time.
  virtual absl::Time Now() = 0;

  // Blocks the calling thread for `duration` of this clock's time.
  virtual void SleepFor(absl::Duration duration) = 0;

  // Waits until `cond` is true or `timeout` of this clock's time has passed, whichever comes
  // first. `mu` must be held on entry; it is held on return (released while waiting, as in
  // absl::Mutex::AwaitWithTimeout). `cond` is re-evaluated whenever another thread releases
  // `mu`. Returns the final value of `cond`.
  virtual bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                                absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  // The wall clock (absl::Now, absl::SleepFor).
  static Clock& Real();
};

}  // namespace labkube

#endif  // LABKUBE_LIB_CLOCK_H_
