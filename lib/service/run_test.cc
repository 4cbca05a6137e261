#include "lib/service/run.h"

#include <signal.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "lib/signals.h"

namespace labkube::service {
namespace {

absl::Time last_deadline = absl::InfinitePast();

struct FakeServer {
  void Shutdown(absl::Time deadline) { last_deadline = deadline; }
};

TEST(RunUntilSignal, AFailedStartExitsOne) {
  absl::StatusOr<std::unique_ptr<FakeServer>> failed = absl::InvalidArgumentError("--port: bad");
  EXPECT_EQ(RunUntilSignal<FakeServer>("labkube-test", std::move(failed), absl::Seconds(5)), 1);
}

TEST(RunUntilSignal, StopsTheServerOnSigterm) {
  BlockTerminationSignals();  // before the thread below, which inherits the mask
  std::thread signaller([] { kill(getpid(), SIGTERM); });
  absl::Time before = absl::Now();
  int code =
      RunUntilSignal<FakeServer>("labkube-test", std::make_unique<FakeServer>(), absl::Seconds(5));
  signaller.join();
  EXPECT_EQ(code, 0);
  EXPECT_GE(last_deadline, before + absl::Seconds(5));  // Shutdown(now + grace)
}

TEST(RunUntilSignal, CallsTheGivenStop) {
  BlockTerminationSignals();
  bool stopped = false;
  std::thread signaller([] { kill(getpid(), SIGINT); });
  int code = RunUntilSignal<FakeServer>("labkube-test", std::make_unique<FakeServer>(),
                                        [&](FakeServer&) { stopped = true; });
  signaller.join();
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace labkube::service
