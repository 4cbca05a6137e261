#include "lib/kube/event_recorder.h"

#include <gtest/gtest.h>

#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"

namespace labkube::kube {
namespace {

TEST(EventRecorderTest, WritesOneEventAboutTheObject) {
  testing::FakeClient client;
  labkube::testing::FakeClock clock;
  EventRecorder events(client, clock, "labkube-scheduler", "replica-1");
  EventTarget pod{"v1", "Pod", "lab-bob", "b1", "u-1"};
  ASSERT_TRUE(events.Normal(pod, "Queued", "waits for rtx3090-x1: 2nd in line").ok());
  ASSERT_TRUE(events.Warning(pod, "TimeLimit", std::string(5000, 'x')).ok());
  auto list = client.List(resources::Events(), "lab-bob", {});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items().Size(), 2u);
  const rapidjson::Value& e = list->items()[0];
  std::string text = json::ToString(e);
  EXPECT_EQ(json::GetString(e, {"involvedObject", "uid"}), "u-1");
  EXPECT_EQ(json::GetString(e, {"involvedObject", "name"}), "b1");
  EXPECT_EQ(json::GetString(e, {"reportingComponent"}), "labkube-scheduler");
  EXPECT_EQ(json::GetString(e, {"reportingInstance"}), "replica-1");
  std::string reasons = std::string(json::GetString(e, {"reason"})) + "," +
                        std::string(json::GetString(list->items()[1], {"reason"}));
  EXPECT_TRUE(reasons == "Queued,TimeLimit" || reasons == "TimeLimit,Queued") << reasons;
  for (const rapidjson::Value& ev : list->items().GetArray()) {
    EXPECT_LE(json::GetString(ev, {"message"}).size(), 1024u);
    EXPECT_EQ(json::GetString(ev, {"metadata", "name"}).substr(0, 3), "b1.");
  }
}

}  // namespace
}  // namespace labkube::kube
