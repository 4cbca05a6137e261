#include "services/scheduler/queue_notices.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/fake_clock.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

std::vector<std::string> Reasons(kube::testing::FakeClient& client, const std::string& ns) {
  std::vector<std::string> out;
  auto list = client.List(res::Events(), ns, {});
  if (!list.ok()) return out;
  for (const rapidjson::Value& e : list->items().GetArray()) {
    out.push_back(std::string(json::GetString(e, {"reason"})) + ": " +
                  std::string(json::GetString(e, {"message"})));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(QueueNoticesTest, AnnouncesEachWaitingPodOnceWithItsPlace) {
  testing::FakeClock clock;
  kube::testing::FakeClient client(clock);
  QueueNotices notices(client, clock, "r1");
  Plan plan;
  GroupStatus& g = plan.groups.emplace_back();
  g.group = "gpu";
  TypeStatus& t = g.types.emplace_back();
  t.type = "x1";
  WaitingPod a{"lab-a", "a1", "u-a1", "gpu", "x1", clock.Now()};
  WaitingPod b{"lab-b", "b1", "u-b1", "gpu", "x1", clock.Now()};
  t.queue = {a, b};
  t.latest_start = {absl::FromUnixSeconds(1800000000)};
  notices.AnnounceQueues(plan);
  notices.AnnounceQueues(plan);  // once only
  EXPECT_EQ(Reasons(client, "lab-a"),
            std::vector<std::string>{"Queued: waiting for a x1 slot of group gpu: 1st in line, "
                                     "starting by 2027-01-15 08:00 UTC at the latest (time "
                                     "limits); labctl queue shows the line"});
  EXPECT_EQ(Reasons(client, "lab-b"),
            std::vector<std::string>{
                "Queued: waiting for a x1 slot of group gpu: 2nd in line; labctl queue shows "
                "the line"});
}

TEST(QueueNoticesTest, WarnsAtTheLimitAndEndsAfterTheGrace) {
  testing::FakeClock clock;
  kube::testing::FakeClient client(clock);
  QueueNotices notices(client, clock, "r1");
  rapidjson::Document pod = json::NewObject("v1", "Pod", "lab-a", "g1");
  auto created = client.Create(res::Pods(), "lab-a", pod);
  ASSERT_TRUE(created.ok());
  PlannerInput in;
  MachineGroup& g = in.groups.emplace_back();
  g.group = "gpu";
  MachineType& t = g.types.emplace_back();
  t.name = "x1";
  t.max_runtime = absl::Hours(8);
  SlotPod& p = in.pods.emplace_back();
  p.role = SlotRole::kGuest;
  p.ns = "lab-a";
  p.name = "g1";
  p.uid = std::string(json::GetString(*created, {"metadata", "uid"}));
  p.group = "gpu";
  p.type = "x1";
  p.running = true;
  p.started = clock.Now();
  clock.Advance(absl::Hours(7));
  EXPECT_EQ(notices.EnforceTimeLimits(in), 0);
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(notices.EnforceTimeLimits(in), 1);
  EXPECT_EQ(notices.EnforceTimeLimits(in), 0);  // warned once
  ASSERT_EQ(Reasons(client, "lab-a").size(), 1u);
  EXPECT_EQ(Reasons(client, "lab-a")[0].substr(0, 17), "TimeLimitReached:");
  EXPECT_TRUE(client.Get(res::Pods(), "lab-a", "g1").ok());
  clock.Advance(kRuntimeGrace);
  EXPECT_EQ(notices.EnforceTimeLimits(in), 1);
  EXPECT_TRUE(absl::IsNotFound(client.Get(res::Pods(), "lab-a", "g1").status()));
  EXPECT_EQ(Reasons(client, "lab-a").size(), 2u);
}

}  // namespace
}  // namespace labkube::scheduler
