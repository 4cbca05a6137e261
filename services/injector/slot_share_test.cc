#include "services/injector/slot_share.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::injector {
namespace {

namespace json = kube::json;

rapidjson::Document Pod(const std::string& spec) {
  auto doc = json::Parse(R"({"metadata":{"name":"p"},"spec":)" + spec + "}");
  EXPECT_TRUE(doc.ok()) << doc.status() << spec;
  return std::move(doc).value();
}

ClaimResponse Claim() {
  ClaimResponse c;
  c.requests = {{"cpu", "4"}, {"memory", "16Gi"}, {"nvidia.com/gpu", "1"}};
  c.limits = c.requests;
  return c;
}

TEST(SlotShareTest, APodWithOneContainerGetsTheWholeType) {
  auto pod = Pod(R"({"containers":[{"name":"main"}]})");
  ASSERT_TRUE(CheckSidecars(pod, 0).ok());
  absl::StatusOr<ClaimResponse> c = ShareSlot(pod, 0, Claim(), "x1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits, Claim().limits);
  EXPECT_EQ(c->requests, Claim().requests);
}

TEST(SlotShareTest, WhatTheRestAsksForIsTakenOutOfTheTarget) {
  auto pod = Pod(R"({"containers":[{"name":"log","resources":{"requests":{"cpu":"100m","memory":"64Mi"},
      "limits":{"memory":"128Mi"}}},{"name":"main"}],
      "initContainers":[{"name":"proxy","restartPolicy":"Always","resources":{"limits":{"cpu":"400m"}}},
                        {"name":"fetch","resources":{"requests":{"cpu":"4","memory":"16Gi"}}}],
      "overhead":{"memory":"64Mi"}})");
  ASSERT_TRUE(CheckSidecars(pod, 1).ok());
  absl::StatusOr<ClaimResponse> c = ShareSlot(pod, 1, Claim(), "x1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.at("cpu"), "3500m");  // 4 - 100m - 400m (a limit stands for the request)
  EXPECT_EQ(c->requests.at("cpu"), "3500m");
  EXPECT_EQ(c->limits.at("memory"), "16256Mi");  // 16Gi - 64Mi (sidecar) - 64Mi (overhead)
  EXPECT_EQ(c->limits.at("nvidia.com/gpu"), "1");  // GPUs are the target's alone
}

TEST(SlotShareTest, ASidecarAskingForTheWholeSlotOrMoreIsRefused) {
  auto pod = Pod(R"({"containers":[{"name":"main"},
      {"name":"miner","resources":{"requests":{"cpu":"20","memory":"100Gi"}}}]})");
  absl::StatusOr<ClaimResponse> c = ShareSlot(pod, 0, Claim(), "x1");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("container \"miner\" asks for cpu that leaves nothing of "
                                      "machine type \"x1\""),
            std::string::npos)
      << c.status();
}

TEST(SlotShareTest, HugeQuantitiesSaturateInsteadOfOverflowing) {
  auto pod = Pod(R"({"containers":[{"name":"main"},
      {"name":"a","resources":{"requests":{"memory":"7Ei"}}},
      {"name":"b","resources":{"requests":{"memory":"7Ei"}}}]})");
  ASSERT_TRUE(CheckSidecars(pod, 0).ok());
  absl::StatusOr<ClaimResponse> c = ShareSlot(pod, 0, Claim(), "x1");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("leaves nothing"), std::string::npos) << c.status();
}

TEST(SlotShareTest, GpusBesideTheTargetAreRefusedBeforeAnyClaim) {
  auto pod = Pod(R"({"containers":[{"name":"main"},
      {"name":"side","resources":{"limits":{"nvidia.com/gpu":"1"}}}]})");
  absl::Status s = CheckSidecars(pod, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("container \"side\" asks for nvidia.com/gpu"), std::string::npos) << s;
  auto zero = Pod(R"({"containers":[{"name":"main"},
      {"name":"side","resources":{"limits":{"nvidia.com/gpu":"0"}}}]})");
  EXPECT_TRUE(CheckSidecars(zero, 0).ok());
}

TEST(SlotShareTest, BadQuantitiesAreRefusedWithTheirPlace) {
  for (const char* bad : {R"("lots")", R"("-1")", "[]"}) {
    auto pod = Pod(std::string(R"({"containers":[{"name":"main"},{"name":"side","resources":{"requests":{"cpu":)") +
                   bad + "}}}]}");
    absl::Status s = CheckSidecars(pod, 0);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("container \"side\" resources[\"cpu\"]"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace labkube::injector
