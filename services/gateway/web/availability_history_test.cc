#include "services/gateway/web/availability_history.h"

#include <gtest/gtest.h>

#include "lib/testing/fake_clock.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway::web {
namespace {

std::vector<gw::MachineType> Types(int free) {
  gw::MachineType t;
  t.set_group("lab");
  t.set_name("rtx3090");
  t.set_free(free);
  t.set_maximum(2);
  return {t};
}

TEST(AvailabilityHistoryTest, OneSamplePerIntervalKeepingTheLast) {
  labkube::testing::FakeClock clock(absl::FromUnixSeconds(1700000040));
  testing::FakeAvailability availability;
  AvailabilityHistory history(availability, clock);
  history.Record(Types(2));
  history.Record(Types(1));
  EXPECT_EQ(history.SampleCount(), 1u);
  clock.Advance(absl::Minutes(1));
  history.Record(Types(0));
  EXPECT_EQ(history.SampleCount(), 2u);
  EXPECT_EQ(history.Json(),
            "{\"resolutionSeconds\":60,\"samples\":["
            "{\"time\":\"2023-11-14T22:14:00Z\",\"types\":[{\"type\":\"lab/rtx3090\",\"free\":1,"
            "\"used\":0,\"waiting\":0,\"maximum\":2}]},"
            "{\"time\":\"2023-11-14T22:15:00Z\",\"types\":[{\"type\":\"lab/rtx3090\",\"free\":0,"
            "\"used\":0,\"waiting\":0,\"maximum\":2}]}]}");
}

TEST(AvailabilityHistoryTest, MemoryIsBounded) {
  labkube::testing::FakeClock clock(absl::FromUnixSeconds(1700000000));
  testing::FakeAvailability availability;
  HistoryOptions options;
  options.max_types = 3;
  AvailabilityHistory history(availability, clock, options);
  std::vector<gw::MachineType> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(Types(1)[0]);
    many.back().set_name("t" + std::to_string(i));
  }
  for (int i = 0; i < 1000; ++i) {
    history.Record(many);
    clock.Advance(absl::Minutes(1));
  }
  EXPECT_EQ(history.SampleCount(), 360u);  // six hours of minutes
  EXPECT_EQ(history.Json().find("\"t3\""), std::string::npos);
  clock.Advance(absl::Hours(7));
  history.Record({});
  EXPECT_EQ(history.SampleCount(), 1u) << "samples older than six hours are dropped";
}

TEST(AvailabilityHistoryTest, FollowsTheGatewaysAvailability) {
  labkube::testing::FakeClock clock(absl::FromUnixSeconds(1700000000));
  testing::FakeAvailability availability;
  AvailabilityHistory history(availability, clock);
  history.Start();
  availability.Set(Types(1));
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (history.SampleCount() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  history.Stop();
  EXPECT_EQ(history.SampleCount(), 1u);
}

}  // namespace
}  // namespace labkube::gateway::web
