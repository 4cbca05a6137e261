#include "services/authenticator/bootstrap.h"

#include <sstream>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "services/authenticator/member_store.h"
#include "services/authenticator/password_hasher.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

TEST(BootstrapTest, CreatesAnAdminAndResetsItsPasswordOnRerun) {
  kube::testing::FakeClient client;
  Options o;
  o.hash_cost = 1;
  ASSERT_TRUE(BootstrapAdmin(client, Clock::Real(), o, "root", "first").ok());
  auto sa = client.Get(res::ServiceAccounts(), "lab-root", "root");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(json::GetString(*sa, {"metadata", "labels", "labkube.io/admin"}), "true");
  ASSERT_TRUE(BootstrapAdmin(client, Clock::Real(), o, "root", "second").ok());
  SecretMap map(client, Clock::Real(), "labkube-system", "labkube-members");
  MemberStore members(map);
  auto record = members.Get("root");
  ASSERT_TRUE(record.ok() && record->has_value());
  auto hasher = *PasswordHasher::Create({.cost = 1});
  EXPECT_TRUE(hasher->Verify("second", (*record)->password_hash));
  EXPECT_FALSE(hasher->Verify("first", (*record)->password_hash));
}

TEST(BootstrapTest, RejectsBadInput) {
  kube::testing::FakeClient client;
  Options o;
  EXPECT_EQ(BootstrapAdmin(client, Clock::Real(), o, "Root", "pw").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BootstrapAdmin(client, Clock::Real(), o, "root", "").code(),
            absl::StatusCode::kInvalidArgument);
  std::istringstream in("pw\n");
  EXPECT_EQ(RunBootstrapAdmin(o, "root", false, in), 2);
}

TEST(BootstrapTest, AKubeconfigThatCannotBeReadIsExitCode1) {
  Options o;
  o.kubeconfig = "/nonexistent/labkube-bootstrap-test/kubeconfig";
  std::istringstream in("pw\n");
  EXPECT_EQ(RunBootstrapAdmin(o, "root", true, in), 1);
}

}  // namespace
}  // namespace labkube::authenticator
