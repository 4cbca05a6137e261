#include "lib/signals.h"

#include <signal.h>

#include <thread>

#include "gtest/gtest.h"

namespace labkube {
namespace {

TEST(SignalsTest, WaitReturnsTheSignal) {
  BlockTerminationSignals();
  std::thread sender([] { kill(getpid(), SIGTERM); });
  EXPECT_EQ(WaitForTerminationSignal(), SIGTERM);
  sender.join();
}

}  // namespace
}  // namespace labkube
