#include "services/scheduler/claim_key.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

// The Secret as the json::NewObject/SetString code wrote it before it moved to kube::Builder
// (the key, random on every run, checked apart); the typed build must write the same.
constexpr char kGoldenKeySecret[] = R"json({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "k", "namespace": "labkube-system",
               "labels": {"app.kubernetes.io/part-of": "labkube"}},
  "type": "Opaque",
  "data": {"key": "<key>"}
})json";

TEST(ClaimKeyTest, TheSecretMatchesTheGolden) {
  kube::testing::FakeClient client;
  absl::StatusOr<std::string> key = LoadOrCreateClaimKey(client, "labkube-system", "k");
  ASSERT_TRUE(key.ok()) << key.status();
  std::vector<rapidjson::Document> created = client.CreateBodies();
  ASSERT_EQ(created.size(), 1u);
  rapidjson::Document& sent = created[0];
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(std::string(json::GetString(sent, {"data", kClaimKeyField})),
                                   &decoded));
  EXPECT_EQ(decoded, *key);
  json::SetString(sent, {"data", kClaimKeyField}, "<key>");
  absl::StatusOr<rapidjson::Document> want = json::Parse(kGoldenKeySecret);
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(*want == sent) << "want " << json::ToString(*want) << "\n got "
                             << json::ToString(sent);
}

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
