#include "services/gateway/token_reviewer.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/testing/fake_clock.h"
#include "services/gateway/testing/fakes.h"

namespace labkube::gateway {
namespace {

using testing::TokenReviewFakeClient;

std::string Jwt(absl::Time exp) {
  return absl::StrCat(
      "eyJhbGciOiJSUzI1NiJ9.",
      absl::WebSafeBase64Escape(absl::StrCat(R"({"exp":)", absl::ToUnixSeconds(exp), "}")), ".sig");
}

class TokenReviewerTest : public ::testing::Test {
 protected:
  labkube::testing::FakeClock clock_;
  TokenReviewFakeClient kube_{clock_};
  KubeTokenReviewer reviewer_{kube_, clock_, {"lab-", absl::Seconds(10), 100}};
};

TEST_F(TokenReviewerTest, MembersAndAdmins) {
  kube_.AddMember("alice", "t-alice", false);
  kube_.AddMember("root", "t-root", true);
  absl::StatusOr<Caller> alice = reviewer_.Review("t-alice");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->member, "alice");
  EXPECT_EQ(alice->ns, "lab-alice");
  EXPECT_FALSE(alice->admin);
  EXPECT_EQ(alice->username, "system:serviceaccount:lab-alice:alice");
  EXPECT_TRUE(reviewer_.Review("t-root")->admin);
}

TEST_F(TokenReviewerTest, RefusesTokensNotIssuedForTheGateway) {
  // A member's own ServiceAccount token, as any pod of the member's namespace has it mounted:
  // valid for the API server, but not issued for the gateway.
  kube_.AddMember("alice", "t-alice", false);
  kube_.AddToken("t-pod", "system:serviceaccount:lab-alice:alice", "https://kubernetes.default.svc");
  absl::StatusOr<Caller> pod = reviewer_.Review("t-pod");
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(pod.status().message().find("audience"), absl::string_view::npos) << pod.status();
  EXPECT_NE(pod.status().message().find("labctl login"), absl::string_view::npos);
  EXPECT_TRUE(reviewer_.Review("t-alice").ok());
}

TEST_F(TokenReviewerTest, CachesForTheTtl) {
  kube_.AddMember("alice", "t-alice", false);
  ASSERT_TRUE(reviewer_.Review("t-alice").ok());
  ASSERT_TRUE(reviewer_.Review("t-alice").ok());
  EXPECT_EQ(kube_.Reviews(), 1);
  clock_.Advance(absl::Seconds(11));
  ASSERT_TRUE(reviewer_.Review("t-alice").ok());
  EXPECT_EQ(kube_.Reviews(), 2);
}

// TokenReviews that wait until released, counting how many reached the API.
class SlowReviews : public TokenReviewFakeClient {
 public:
  using TokenReviewFakeClient::TokenReviewFakeClient;
  absl::StatusOr<rapidjson::Document> Create(const kube::Resource& resource, std::string_view ns,
                                             const rapidjson::Value& object,
                                             const kube::WriteOptions& options = {}) override {
    if (resource.plural == "tokenreviews") {
      ++entered;
      started.Notify();
      release.WaitForNotification();
    }
    return TokenReviewFakeClient::Create(resource, ns, object, options);
  }
  std::atomic<int> entered{0};
  absl::Notification started, release;
};

TEST(TokenReviewerBurstTest, CallersOfATokenUnderReviewShareTheReview) {
  labkube::testing::FakeClock clock;
  SlowReviews kube(clock);
  kube.AddMember("alice", "t-alice", false);
  KubeTokenReviewer reviewer(kube, clock, {"lab-", absl::Seconds(10), 100});
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  callers.emplace_back([&] { ok += reviewer.Review("t-alice").ok(); });
  kube.started.WaitForNotification();
  for (int i = 0; i < 8; ++i) callers.emplace_back([&] { ok += reviewer.Review("t-alice").ok(); });
  kube.release.Notify();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok.load(), 9);
  EXPECT_EQ(kube.entered.load(), 1);
}

TEST_F(TokenReviewerTest, NeverCachesPastTheTokenExpiry) {
  const std::string jwt = Jwt(clock_.Now() + absl::Seconds(3));
  kube_.AddMember("alice", jwt, false);
  ASSERT_TRUE(reviewer_.Review(jwt).ok());
  clock_.Advance(absl::Seconds(4));
  absl::StatusOr<Caller> late = reviewer_.Review(jwt);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(late.status().message().find("token expired at"), std::string::npos);
  EXPECT_NE(late.status().message().find("labctl login"), std::string::npos);
}

TEST_F(TokenReviewerTest, RejectedTokensSayWhy) {
  absl::StatusOr<Caller> r = reviewer_.Review("bogus");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("token rejected (invalid bearer token)"), std::string::npos);
  EXPECT_EQ(reviewer_.CacheSize(), 0u);
}

TEST_F(TokenReviewerTest, NonMembersAreNotAllowed) {
  kube_.AddToken("t-ctrl", "system:serviceaccount:kube-system:ctrl");
  EXPECT_EQ(reviewer_.Review("t-ctrl").status().code(), absl::StatusCode::kPermissionDenied);
  kube_.AddToken("t-user", "jane@example.org");
  EXPECT_EQ(reviewer_.Review("t-user").status().code(), absl::StatusCode::kPermissionDenied);
  // A ServiceAccount in a member namespace but not the member's own (no user label).
  rapidjson::Document sa = kube::json::NewObject("v1", "ServiceAccount", "lab-bob", "bob");
  ASSERT_TRUE(kube_.Create(kube::resources::ServiceAccounts(), "lab-bob", sa).ok());
  kube_.AddToken("t-bob", "system:serviceaccount:lab-bob:bob");
  absl::StatusOr<Caller> bob = reviewer_.Review("t-bob");
  EXPECT_EQ(bob.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(bob.status().message().find("not a labkube member"), std::string::npos);
}

TEST_F(TokenReviewerTest, ApiErrorsAreUnavailable) {
  kube_.FailReviews(absl::UnavailableError("connection refused"));
  EXPECT_EQ(reviewer_.Review("x").status().code(), absl::StatusCode::kUnavailable);
}

TEST(JwtExpiryTest, ReadsExpOnly) {
  EXPECT_EQ(JwtExpiry(Jwt(absl::FromUnixSeconds(1234))), absl::FromUnixSeconds(1234));
  EXPECT_FALSE(JwtExpiry("not-a-jwt").has_value());
  EXPECT_FALSE(JwtExpiry("a.b.c").has_value());
}

}  // namespace
}  // namespace labkube::gateway
