#include "services/authenticator/caller_identity.h"

#include <map>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

class MapVerifier : public TokenVerifier {
 public:
  std::map<std::string, std::string, std::less<>> users;
  absl::StatusOr<std::string> Verify(std::string_view token) override {
    auto it = users.find(token);
    if (it == users.end()) return absl::UnauthenticatedError("rejected");
    return it->second;
  }
};

class CallerIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    verifier_.users = {{"t-admin", "system:serviceaccount:lab-root:root"},
                       {"t-alice", "system:serviceaccount:lab-alice:alice"},
                       {"t-other", "system:serviceaccount:kube-system:default"},
                       {"t-ghost", "system:serviceaccount:lab-ghost:ghost"}};
    AddSa("root", true);
    AddSa("alice", false);
  }
  void AddSa(const std::string& name, bool admin) {
    rapidjson::Document sa = json::NewObject("v1", "ServiceAccount", "lab-" + name, name);
    json::SetString(sa, {"metadata", "labels", "labkube.io/user"}, name);
    if (admin) json::SetString(sa, {"metadata", "labels", "labkube.io/admin"}, "true");
    ASSERT_TRUE(client_.Create(res::ServiceAccounts(), "lab-" + name, sa).ok());
  }

  MapVerifier verifier_;
  kube::testing::FakeClient client_;
  CallerIdentity identity_{verifier_, client_, "lab-"};
};

TEST_F(CallerIdentityTest, AdminsAndMembers) {
  auto admin = identity_.RequireAdmin("Bearer t-admin");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->member, "root");
  auto alice = identity_.Identify("bearer   t-alice ");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->member, "alice");
  EXPECT_FALSE(alice->admin);
  EXPECT_EQ(identity_.RequireAdmin("Bearer t-alice").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(CallerIdentityTest, NonMembersAndDeletedMembersAreNotAdmins) {
  auto other = identity_.Identify("Bearer t-other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->member, "");
  EXPECT_EQ(identity_.RequireAdmin("Bearer t-other").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(identity_.RequireAdmin("Bearer t-ghost").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(CallerIdentityTest, MissingOrBadTokens) {
  for (const char* h : {"", "   ", "Basic abc", "Bearer", "Bearer    ", "Bearer nope"}) {
    EXPECT_EQ(identity_.Identify(h).status().code(), absl::StatusCode::kUnauthenticated) << h;
  }
}

TEST_F(CallerIdentityTest, ApiErrorsAreUnavailable) {
  client_.InjectError("Get", absl::UnavailableError("down"));
  EXPECT_EQ(identity_.Identify("Bearer t-admin").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace labkube::authenticator
