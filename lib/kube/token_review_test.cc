#include "lib/kube/token_review.h"

#include <string>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::kube {
namespace {

// Answers TokenReviews like the API server: "good" is issued for audience "gw", "api" only for
// the API server; `ignore_audiences` plays an authenticator that answers with its own audience.
class ReviewClient : public testing::FakeClient {
 public:
  bool ignore_audiences = false;
  std::string last_request;

  absl::StatusOr<rapidjson::Document> Create(const Resource& resource, std::string_view ns,
                                             const rapidjson::Value& object,
                                             const WriteOptions& options = {}) override {
    last_request = json::ToString(object);
    rapidjson::Document reply = json::Copy(object);
    std::string token(json::GetString(object, {"spec", "token"}));
    const rapidjson::Value* wanted = json::Find(object, {"spec", "audiences"});
    std::string aud = token == "good" ? "gw" : "api";
    bool asked_other = wanted != nullptr && wanted->IsArray() && !wanted->Empty() &&
                       json::View((*wanted)[0]) != aud;
    if (token == "bad" || (asked_other && !ignore_audiences)) {
      json::SetBool(reply, {"status", "authenticated"}, false);
      json::SetString(reply, {"status", "error"}, "token audiences is invalid for the target audiences");
      return reply;
    }
    json::SetBool(reply, {"status", "authenticated"}, true);
    json::SetString(reply, {"status", "user", "username"}, "system:serviceaccount:lab-a:a");
    rapidjson::Value list(rapidjson::kArrayType);
    list.PushBack(json::String(aud, reply.GetAllocator()), reply.GetAllocator());
    json::SetPath(reply, {"status", "audiences"}, std::move(list), reply.GetAllocator());
    return reply;
  }
};

TEST(ReviewTokenTest, AcceptsATokenForTheAudience) {
  ReviewClient client;
  absl::StatusOr<ReviewedToken> r = ReviewToken(client, "good", {"gw"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->authenticated);
  EXPECT_EQ(r->username, "system:serviceaccount:lab-a:a");
  EXPECT_NE(client.last_request.find(R"("audiences":["gw"])"), std::string::npos)
      << client.last_request;
}

TEST(ReviewTokenTest, RefusesATokenForAnotherAudience) {
  ReviewClient client;
  absl::StatusOr<ReviewedToken> r = ReviewToken(client, "api-only", {"gw"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->authenticated);
  EXPECT_NE(r->error.find("audiences"), std::string::npos) << r->error;
}

TEST(ReviewTokenTest, RefusesAnAnswerThatDoesNotNameTheAudience) {
  ReviewClient client;
  client.ignore_audiences = true;
  absl::StatusOr<ReviewedToken> r = ReviewToken(client, "api-only", {"gw"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->authenticated);
  EXPECT_NE(r->error.find("not for audience gw"), std::string::npos) << r->error;
}

TEST(ReviewTokenTest, NoAudiencesMeansTheApiServers) {
  ReviewClient client;
  absl::StatusOr<ReviewedToken> r = ReviewToken(client, "api-only", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->authenticated);
  EXPECT_EQ(client.last_request.find("audiences"), std::string::npos);
}

TEST(ReviewTokenTest, InvalidTokenAndDeadApiServer) {
  ReviewClient client;
  absl::StatusOr<ReviewedToken> r = ReviewToken(client, "bad", {"gw"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->authenticated);
  testing::FakeClient plain;
  plain.InjectError("Create", absl::UnavailableError("connection refused"));
  r = ReviewToken(plain, "good", {"gw"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("connection refused"), std::string::npos);
}

}  // namespace
}  // namespace labkube::kube
