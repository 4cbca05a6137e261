// Authentication through RestClient: a ServiceAccount token from the TokenRequest subresource,
// checked with a TokenReview, used as a bearer token (static and from a re-read file).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/testing/wait_until.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace labkube::kube {
namespace {

using labkube::testing::WaitUntil;

class AuthTest : public ClusterTest {
 protected:
  // A token for the namespace's "default" ServiceAccount (created by kube-controller-manager).
  std::string ServiceAccountToken() {
    bool exists =
        WaitUntil([&] { return client_->Get(resources::ServiceAccounts(), ns_, "default").ok(); },
                  absl::Seconds(30));
    EXPECT_TRUE(exists) << "ServiceAccount default not created in " << ns_;
    rapidjson::Document request =
        json::NewObject("authentication.k8s.io/v1", "TokenRequest", "", "");
    json::SetInt(request, {"spec", "expirationSeconds"}, 600);
    auto response =
        client_->CreateSubresource(resources::ServiceAccounts(), ns_, "default", "token", request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return "";
    return std::string(json::GetString(*response, {"status", "token"}));
  }

  ClusterConfig TokenOnly() {
    ClusterConfig c;
    c.server = config_.server;
    c.ca_pem = config_.ca_pem;
    c.insecure_skip_tls_verify = config_.insecure_skip_tls_verify;
    return c;
  }
};

TEST_F(AuthTest, TokenReviewAuthenticatesServiceAccountToken) {
  std::string token = ServiceAccountToken();
  ASSERT_FALSE(token.empty());
  rapidjson::Document review = json::NewObject("authentication.k8s.io/v1", "TokenReview", "", "");
  json::SetString(review, {"spec", "token"}, token);
  auto result = client_->Create(resources::TokenReviews(), "", review);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(json::GetBool(*result, {"status", "authenticated"})) << json::ToString(*result);
  EXPECT_EQ(json::GetString(*result, {"status", "user", "username"}),
            absl::StrCat("system:serviceaccount:", ns_, ":default"));

  json::SetString(review, {"spec", "token"}, "not-a-token");
  auto bad = client_->Create(resources::TokenReviews(), "", review);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(json::GetBool(*bad, {"status", "authenticated"}));
}

TEST_F(AuthTest, SubjectAccessReview) {
  auto sar = json::Parse(absl::StrCat(
      R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{)",
      R"("user":"system:serviceaccount:)", ns_,
      R"(:default","resourceAttributes":{"verb":"delete","resource":"nodes"}}})"));
  ASSERT_TRUE(sar.ok());
  auto result = client_->Create(resources::SubjectAccessReviews(), "", *sar);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(json::GetBool(*result, {"status", "allowed"}, true));
}

TEST_F(AuthTest, BearerTokenStaticAndFromFile) {
  std::string token = ServiceAccountToken();
  ASSERT_FALSE(token.empty());
  ClusterConfig with_token = TokenOnly();
  with_token.token = token;
  auto as_sa = NewClient(with_token);
  // Authenticated as the ServiceAccount, which may not read nodes: 403, not 401.
  auto forbidden = as_sa->List(resources::Nodes(), "", {});
  EXPECT_EQ(forbidden.status().code(), absl::StatusCode::kPermissionDenied) << forbidden.status();

  ClusterConfig bad = TokenOnly();
  bad.token = "garbage";
  EXPECT_EQ(NewClient(bad)->List(resources::Nodes(), "", {}).status().code(),
            absl::StatusCode::kUnauthenticated);

  std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/sa-token");
  std::ofstream(path) << token << "\n";
  ClusterConfig from_file = TokenOnly();
  from_file.token_file = path;
  TransportOptions options;
  options.token_reread_interval = absl::ZeroDuration();
  auto client = RestClient::Create(from_file, options);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->List(resources::Nodes(), "", {}).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::SleepFor(absl::Milliseconds(20));  // a distinct mtime
  std::ofstream(path + ".new") << "rotated-but-invalid";
  std::rename((path + ".new").c_str(), path.c_str());
  EXPECT_EQ((*client)->List(resources::Nodes(), "", {}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace labkube::kube
