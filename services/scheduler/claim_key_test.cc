#include "services/scheduler/claim_key.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

TEST(ClaimKeyTest, CreatesOnceThenEveryReplicaReadsTheSameKey) {
  kube::testing::FakeClient client;
  absl::StatusOr<std::string> first = LoadOrCreateClaimKey(client, "labkube-system", "k");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 32u);
  absl::StatusOr<std::string> second = LoadOrCreateClaimKey(client, "labkube-system", "k");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  absl::StatusOr<rapidjson::Document> secret = client.Get(res::Secrets(), "labkube-system", "k");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(json::GetString(*secret, {"type"}), "Opaque");
}

TEST(ClaimKeyTest, ABrokenSecretIsAnErrorThatSaysWhatToDo) {
  kube::testing::FakeClient client;
  auto secret = json::Parse(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"k","namespace":"labkube-system"},
          "data":{"key":"c2hvcnQ="}})");
  ASSERT_TRUE(secret.ok());
  ASSERT_TRUE(client.Create(res::Secrets(), "labkube-system", *secret).ok());
  absl::StatusOr<std::string> key = LoadOrCreateClaimKey(client, "labkube-system", "k");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("labkube-system/k"), std::string::npos) << key.status();
  EXPECT_NE(key.status().message().find("delete it"), std::string::npos) << key.status();
}

TEST(ClaimKeyTest, ApiErrorsAreReportedWithTheSecretsName) {
  kube::testing::FakeClient client;
  client.InjectError("Get", absl::PermissionDeniedError("secrets is forbidden"), 1);
  absl::StatusOr<std::string> key = LoadOrCreateClaimKey(client, "labkube-system", "k");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(key.status().message().find("labkube-system/k"), std::string::npos) << key.status();
}

}  // namespace
}  // namespace labkube::scheduler
