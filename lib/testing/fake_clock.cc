#include "lib/testing/fake_clock.h"

namespace labkube::testing {

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

absl::Time FakeClock::BeginWait(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  ++waiters_;
  waits_.push_back(duration);
  return now_ + duration;
}

void FakeClock::EndWait() {
  absl::MutexLock lock(&mu_);
  --waiters_;
}

void FakeClock::SleepFor(absl::Duration duration) {
  absl::Time deadline = BeginWait(duration);
  {
    absl::MutexLock lock(&mu_);
    auto reached = [this, deadline]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return now_ >= deadline; };
    mu_.Await(absl::Condition(&reached));
  }
  EndWait();
}

bool FakeClock::AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                                 absl::Duration timeout) {
  absl::Time deadline = BeginWait(timeout);
  bool result = false;
  while (true) {
    // `mu` is released while waiting, so other threads can change the condition's state.
    if (mu.AwaitWithTimeout(cond, absl::Milliseconds(1))) {
      result = true;
      break;
    }
    if (Now() >= deadline) {
      result = cond.Eval();
      break;
    }
  }
  EndWait();
  return result;
}

void FakeClock::Advance(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  now_ += duration;
}

int FakeClock::NumWaiters() {
  absl::MutexLock lock(&mu_);
  return waiters_;
}

std::vector<absl::Duration> FakeClock::RequestedWaits() {
  absl::MutexLock lock(&mu_);
  return waits_;
}

}  // namespace labkube::testing
