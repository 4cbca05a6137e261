#include "services/authenticator/token_issuer.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/kube/testing/golden.h"

namespace labkube::authenticator {
namespace {

using kube::testing::MatchesGolden;

namespace json = kube::json;

class TokenIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.SetSubresourceHandler(
        [this](const kube::Resource& r, std::string_view ns, std::string_view name,
               std::string_view sub,
               const rapidjson::Value& body) -> absl::StatusOr<rapidjson::Document> {
          if (r.plural != "serviceaccounts" || sub != "token") return absl::UnimplementedError("?");
          if (name == "ghost") return absl::NotFoundError("serviceaccounts \"ghost\" not found");
          requested_seconds_ = json::GetInt(body, {"spec", "expirationSeconds"});
          audiences_ = json::ToString(body);
          ++requests_;
          // Like the API server: the reply's spec holds the audiences granted (its own when
          // none were asked for).
          rapidjson::Document reply = json::Copy(body);
          if (json::Find(body, {"spec", "audiences"}) == nullptr && api_says_audiences_) {
            rapidjson::Value list(rapidjson::kArrayType);
            list.PushBack("https://kubernetes.default.svc", reply.GetAllocator());
            json::SetPath(reply, {"spec", "audiences"}, std::move(list), reply.GetAllocator());
          }
          json::SetString(reply, {"status", "token"}, std::string("tok-") + std::string(ns));
          // The API server may grant something else than asked; report what it granted.
          json::SetString(reply, {"status", "expirationTimestamp"}, "2030-01-02T03:04:05Z");
          return reply;
        });
  }

  kube::testing::FakeClient client_;
  int64_t requested_seconds_ = 0;
  std::string audiences_;  // the last request
  int requests_ = 0;
  bool api_says_audiences_ = true;
};

// The session Secret as the json::NewObject/SetString code wrote it before it moved to
// kube::Builder; the typed build must write the same fields and values.
constexpr char kGoldenSessionSecret[] = R"json({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"generateName": "labkube-session-", "namespace": "lab-alice",
               "labels": {"labkube.io/user": "alice", "app.kubernetes.io/managed-by": "labkube"}},
  "type": "Opaque"
})json";

TEST(TokenIssuerGoldenTest, TheSessionSecretMatchesTheGolden) {
  kube::testing::FakeClient client;
  TokenIssuer issuer(client);
  absl::StatusOr<SessionBinding> b = issuer.OpenBinding("lab-alice", "alice");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(absl::StartsWith(b->name, kSessionSecretPrefix)) << b->name;
  EXPECT_FALSE(b->uid.empty());
  std::vector<rapidjson::Document> created = client.CreateBodies();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_TRUE(MatchesGolden(kGoldenSessionSecret, created[0]));
}

TEST_F(TokenIssuerTest, IssuesAndReadsTheGrantedExpiry) {
  TokenIssuer issuer(client_);
  auto t = issuer.Issue("lab-alice", "alice", absl::Hours(8));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "tok-lab-alice");
  EXPECT_EQ(t->expiry,
            absl::FromCivil(absl::CivilSecond(2030, 1, 2, 3, 4, 5), absl::UTCTimeZone()));
  EXPECT_EQ(requested_seconds_, 8 * 3600);
}

TEST_F(TokenIssuerTest, LearnsTheApiAudiencesOnceAndAddsTheGateway) {
  TokenIssuer issuer(client_);
  EXPECT_FALSE(issuer.Audiences().has_value());
  ASSERT_TRUE(issuer.Issue("lab-alice", "alice", absl::Hours(8)).ok());
  EXPECT_EQ(requests_, 2);  // one to learn, one for the token handed out
  EXPECT_NE(audiences_.find(R"(["https://kubernetes.default.svc","labkube.io/gateway"])"),
            std::string::npos)
      << audiences_;
  ASSERT_TRUE(issuer.Issue("lab-bob", "bob", absl::Hours(8)).ok());
  EXPECT_EQ(requests_, 3);
  EXPECT_NE(audiences_.find("labkube.io/gateway"), std::string::npos) << audiences_;
}

TEST_F(TokenIssuerTest, AnApiServerThatDoesNotSayItsAudiences) {
  api_says_audiences_ = false;
  TokenIssuer issuer(client_);
  ASSERT_TRUE(issuer.Issue("lab-alice", "alice", absl::Hours(8)).ok());
  EXPECT_EQ(audiences_.find("audiences"), std::string::npos);
  EXPECT_FALSE(issuer.Audiences().has_value());
}

TEST_F(TokenIssuerTest, NeverAsksForLessThanTenMinutes) {
  TokenIssuer issuer(client_, {{"https://kubernetes.default.svc.cluster.local"}});
  ASSERT_TRUE(issuer.Issue("ns", "sa", absl::Seconds(30)).ok());
  EXPECT_EQ(requested_seconds_, 600);
  EXPECT_EQ(requests_, 1);  // configured audiences: nothing to learn
  EXPECT_NE(audiences_.find(R"(["https://kubernetes.default.svc.cluster.local","labkube.io/gateway"])"),
            std::string::npos) << audiences_;
}

TEST_F(TokenIssuerTest, MissingServiceAccount) {
  TokenIssuer issuer(client_);
  auto t = issuer.Issue("ns", "ghost", absl::Hours(1));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("ns/ghost"), absl::string_view::npos);
}

}  // namespace
}  // namespace labkube::authenticator
