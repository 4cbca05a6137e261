#include "services/scheduler/controller.h"

#include <atomic>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/testing/wait_until.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;
using labkube::testing::WaitUntil;

rapidjson::Document Json(const std::string& text) {
  auto doc = json::Parse(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n" << text;
  return std::move(doc).value();
}

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest()
      : state_(Clock::Real(), absl::Seconds(30), "labkube-system", signer_),
        controller_(client_, state_, board_, Clock::Real(), [this] { return leader_.load(); },
                    registry_, ControllerOptions{}) {
    EXPECT_TRUE(client_.Create(res::Machines(), "", Json(R"({"apiVersion":"labkube.io/v1alpha1",
        "kind":"Machine","metadata":{"name":"m"},"spec":{
        "nodePool":[{"name":"node-a","mode":"ready","machineType":[{"name":"x1"}]}],
        "machineTypes":[{"name":"x1","spec":{"cpu":"1","memory":"1Gi","gpu":{"num":1}},"available":2}]}})"))
                    .ok());
    EXPECT_TRUE(client_.Create(res::Nodes(), "", Json(R"({"metadata":{"name":"node-a"},
        "status":{"allocatable":{"cpu":"8","memory":"8Gi","nvidia.com/gpu":"2"},
        "conditions":[{"type":"Ready","status":"True"}]}})"))
                    .ok());
  }
  ~ControllerTest() override { controller_.Stop(); }

  int Reservations() {
    auto pods = client_.List(res::Pods(), "labkube-system", {});
    return pods.ok() ? static_cast<int>(pods->items().Size()) : -1;
  }

  kube::testing::FakeClient client_;
  ClaimSigner signer_ = *ClaimSigner::Create(std::string(32, 't'));
  SchedulerState state_;
  AvailabilityBoard board_;
  metrics::Registry registry_;
  std::atomic<bool> leader_{false};
  Controller controller_;
};

TEST_F(ControllerTest, FollowerPublishesButDoesNotWrite) {
  controller_.Start();
  ASSERT_TRUE(controller_.WaitForSync(absl::Now() + absl::Seconds(10)));
  ASSERT_TRUE(WaitUntil([&] { return !board_.Current().second->empty(); }));
  EXPECT_EQ(board_.Current().second->at(0).status.fits, 2);
  EXPECT_EQ(Reservations(), 0);
}

TEST_F(ControllerTest, LeaderLocksSlotsAndReportsThemOnceRunning) {
  leader_ = true;
  controller_.Start();
  ASSERT_TRUE(WaitUntil([&] { return Reservations() == 2; }));
  auto pods = client_.List(res::Pods(), "labkube-system", {});
  for (const auto& p : pods->items().GetArray()) {
    std::string name(json::GetString(p, {"metadata", "name"}));
    ASSERT_TRUE(client_.Patch(res::Pods(), "labkube-system", name, kube::PatchType::kMergePatch,
                              R"({"spec":{"nodeName":"node-a"}})")
                    .ok());
    kube::PatchOptions status;
    status.subresource = "status";
    ASSERT_TRUE(client_.Patch(res::Pods(), "labkube-system", name, kube::PatchType::kMergePatch,
                              R"({"status":{"phase":"Running"}})", status)
                    .ok());
  }
  ASSERT_TRUE(WaitUntil([&] {
    auto list = board_.Current().second;
    return !list->empty() && list->at(0).status.reserved == 2;
  }));
  EXPECT_EQ(Reservations(), 2);
  EXPECT_NE(registry_.Expose().find("labkube_scheduler_slots{group=\"m\",type=\"x1\",state=\"reserved\"} 2"),
            std::string::npos)
      << registry_.Expose();
}

}  // namespace
}  // namespace labkube::scheduler
