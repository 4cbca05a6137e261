#include "lib/clock.h"

#include "absl/time/clock.h"

namespace labkube {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override { absl::SleepFor(duration); }
  bool AwaitWithTimeout(absl::Mutex& mu, const absl::Condition& cond,
                        absl::Duration timeout) override {
    return mu.AwaitWithTimeout(cond, timeout);
  }
};

}  // namespace

Clock& Clock::Real() {
  static Clock* const clock = new RealClock();
  return *clock;
}

}  // namespace labkube
