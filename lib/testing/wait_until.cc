#include "lib/testing/wait_until.h"

#include "absl/time/clock.h"

namespace labkube::testing {

bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= deadline) return pred();
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace labkube::testing
