#include "services/scheduler/leader_mark.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

class LeaderMarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"sched-a", "sched-b"}) {
      ASSERT_TRUE(kube_.Create(res::Pods(), "labkube-system",
                               json::NewObject("v1", "Pod", "labkube-system", name))
                      .ok());
    }
  }
  std::string Label(const std::string& pod) {
    auto p = kube_.Get(res::Pods(), "labkube-system", pod);
    return p.ok() ? std::string(json::GetString(*p, {"metadata", "labels", "labkube.io/scheduler-leader"}))
                  : "gone";
  }
  kube::testing::FakeClient kube_;
};

TEST_F(LeaderMarkTest, TheLeaderLabelsItsPodAndTakesTheLabelFromAStaleOne) {
  LeaderPodMarker a(kube_, "labkube-system", "sched-a");
  LeaderPodMarker b(kube_, "labkube-system", "sched-b");
  ASSERT_TRUE(a.Sync(true).ok());
  EXPECT_EQ(Label("sched-a"), "true");
  // a crashed without stepping down; b leads now.
  ASSERT_TRUE(b.Sync(true).ok());
  EXPECT_EQ(Label("sched-b"), "true");
  EXPECT_EQ(Label("sched-a"), "");
  ASSERT_TRUE(b.Sync(false).ok());
  EXPECT_EQ(Label("sched-b"), "");
}

TEST_F(LeaderMarkTest, ErrorsNameThePodAndAGonePodNeedsNoUnlabelling) {
  LeaderPodMarker ghost(kube_, "labkube-system", "sched-x");
  absl::Status s = ghost.Sync(true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("labkube-system/sched-x"), std::string::npos) << s;
  EXPECT_TRUE(ghost.Sync(false).ok());
}

}  // namespace
}  // namespace labkube::scheduler
