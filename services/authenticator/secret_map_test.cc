#include "services/authenticator/secret_map.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/kube/testing/golden.h"
#include "lib/testing/wait_until.h"

namespace labkube::authenticator {
namespace {

using kube::testing::MatchesGolden;

namespace json = kube::json;
namespace res = kube::resources;
using labkube::testing::WaitUntil;

absl::Status Put(SecretMap::Data& d, const std::string& k, const std::string& v) {
  d[k] = v;
  return absl::OkStatus();
}

class SecretMapTest : public ::testing::Test {
 protected:
  kube::testing::FakeClient client_;
};

TEST_F(SecretMapTest, CreatesTheSecretAndStoresBase64) {
  SecretMap map(client_, Clock::Real(), "labkube-system", "things");
  auto written = map.Mutate([](SecretMap::Data& d) { return Put(d, "alice", "{\"x\":1}"); });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ((*written)->at("alice"), "{\"x\":1}");
  auto secret = client_.Get(res::Secrets(), "labkube-system", "things");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(json::GetString(*secret, {"data", "alice"}), absl::Base64Escape("{\"x\":1}"));
  EXPECT_EQ(json::GetString(*secret, {"metadata", "labels", "app.kubernetes.io/managed-by"}),
            "labkube-authenticator");
  EXPECT_EQ(map.Current()->at("alice"), "{\"x\":1}");
}

// The Secret as the json::NewObject/SetString code wrote it before it moved to kube::Builder;
// the typed build must write the same fields and values.
constexpr char kGoldenSecret[] = R"json({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "things", "namespace": "labkube-system",
               "labels": {"app.kubernetes.io/managed-by": "labkube-authenticator"}},
  "type": "Opaque",
  "data": {"alice": "eyJ4IjoxfQ==", "bob": ""}
})json";

TEST(SecretMapGoldenTest, TheNewSecretMatchesTheGolden) {
  kube::testing::FakeClient client;
  SecretMap map(client, Clock::Real(), "labkube-system", "things");
  ASSERT_TRUE(map.Mutate([](SecretMap::Data& d) {
                   d["alice"] = "{\"x\":1}";
                   d["bob"] = "";
                   return absl::OkStatus();
                 })
                  .ok());
  std::vector<rapidjson::Document> created = client.CreateBodies();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_TRUE(MatchesGolden(kGoldenSecret, created[0]));
}

TEST_F(SecretMapTest, InformerSeesOtherWriters) {
  SecretMap reader(client_, Clock::Real(), "ns", "s");
  SecretMap writer(client_, Clock::Real(), "ns", "s");
  reader.Start();
  ASSERT_TRUE(reader.WaitForSync(absl::Now() + absl::Seconds(5)));
  ASSERT_TRUE(writer.Mutate([](SecretMap::Data& d) { return Put(d, "k", "v1"); }).ok());
  EXPECT_TRUE(WaitUntil([&] { return reader.Current()->count("k") == 1; }));
  ASSERT_TRUE(writer
                  .Mutate([](SecretMap::Data& d) {
                    d.erase("k");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(WaitUntil([&] { return reader.Current()->empty(); }));
}

TEST_F(SecretMapTest, ConflictingWritesAreRetriedAndBothLand) {
  SecretMap a(client_, Clock::Real(), "ns", "s");
  SecretMap b(client_, Clock::Real(), "ns", "s");
  ASSERT_TRUE(a.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  ASSERT_TRUE(b.Fetch().ok());  // b caches this version
  ASSERT_TRUE(a.Mutate([](SecretMap::Data& d) { return Put(d, "a", "2"); }).ok());
  int calls = 0;
  auto written = b.Mutate([&](SecretMap::Data& d) {
    ++calls;
    return Put(d, "b", "1");
  });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(calls, 2);  // stale first attempt, then on the re-read data
  EXPECT_EQ((*written)->at("a"), "2");
  EXPECT_EQ((*written)->at("b"), "1");
}

TEST_F(SecretMapTest, InjectedConflictIsRetried) {
  SecretMap map(client_, Clock::Real(), "ns", "s");
  ASSERT_TRUE(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  client_.InjectError("Update", absl::AbortedError("conflict"), 2);
  auto written = map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "2"); });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(client_.CallCount("Update"), 3);
  client_.InjectError("Update", absl::AbortedError("conflict"), -1);
  EXPECT_EQ(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "3"); }).status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(SecretMapTest, ErrorsAndNoOpsWriteNothing) {
  SecretMap map(client_, Clock::Real(), "ns", "s");
  ASSERT_TRUE(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  int updates = client_.CallCount("Update");
  EXPECT_EQ(
      map.Mutate([](SecretMap::Data&) { return absl::NotFoundError("nope"); }).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_TRUE(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  EXPECT_EQ(client_.CallCount("Update"), updates);
  client_.InjectError("Update", absl::PermissionDeniedError("forbidden"));
  EXPECT_EQ(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "9"); }).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SecretMapTest, FindFallsBackToTheApiServer) {
  SecretMap map(client_, Clock::Real(), "ns", "s");
  SecretMap other(client_, Clock::Real(), "ns", "s");
  ASSERT_TRUE(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  ASSERT_TRUE(other.Mutate([](SecretMap::Data& d) { return Put(d, "b", "2"); }).ok());
  auto found = map.Find("b");  // not in map's cache (no informer running)
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, "2");
  auto missing = map.Find("zzz");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SecretMapTest, PreservesOtherFieldsOfTheSecret) {
  auto created = client_.Create(res::Secrets(), "ns", *json::Parse(R"({"apiVersion":"v1",
      "kind":"Secret","metadata":{"name":"s","annotations":{"note":"keep"}},"type":"Opaque"})"));
  ASSERT_TRUE(created.ok());
  SecretMap map(client_, Clock::Real(), "ns", "s");
  ASSERT_TRUE(map.Mutate([](SecretMap::Data& d) { return Put(d, "a", "1"); }).ok());
  auto secret = client_.Get(res::Secrets(), "ns", "s");
  EXPECT_EQ(json::GetString(*secret, {"metadata", "annotations", "note"}), "keep");
}

}  // namespace
}  // namespace labkube::authenticator
