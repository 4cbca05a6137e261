#include "services/authenticator/authenticator.h"

#include <sstream>

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/log.h"
#include "lib/testing/fake_clock.h"
#include "services/authenticator/testing/fake_deps.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    hasher_ = *PasswordHasher::Create({.algorithm = "yescrypt", .cost = 1});
    options_.public_server = "https://lab.example:6443";
    options_.public_ca_pem = "CA";
    auth_ = std::make_unique<Authenticator>(Deps{client_, clock_, members_, sessions_, *hasher_,
                                                 lockout_, issuer_, provisioner_, identity_},
                                            options_);
  }

  void SetUp() override {
    SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(log_));
    // The bootstrap admin, as `bootstrap-admin` would create it.
    ASSERT_TRUE(provisioner_.Provision({"root", {}, true}).ok());
    ASSERT_TRUE(members_.Create("root", {*hasher_->Hash("root-pw"), clock_.Now(), {}}).ok());
    auto login = auth_->Login(Ctx(), "root", "root-pw", CredentialForm::kToken);
    ASSERT_TRUE(login.ok()) << login.status();
    admin_ = Bearer(login->access.token);
  }
  void TearDown() override { SetLogSink(nullptr); }

  static RequestContext Ctx(std::string authorization = "", std::string peer = "10.0.0.1") {
    return RequestContext{std::move(authorization), std::move(peer)};
  }
  static std::string Bearer(const std::string& token) { return "Bearer " + token; }

  // Creates member `name` with `password`; returns its access token.
  std::string AddMember(const std::string& name, const std::string& password) {
    auto m = auth_->CreateMember(Ctx(admin_), {name, {}, false}, password);
    EXPECT_TRUE(m.ok()) << m.status();
    auto login = auth_->Login(Ctx(), name, password, CredentialForm::kToken);
    EXPECT_TRUE(login.ok()) << login.status();
    return login.ok() ? login->access.token : "";
  }

  labkube::testing::FakeClock clock_;
  kube::testing::FakeClient client_{clock_};
  testing::FakeTokenApi tokens_{client_, clock_};
  SecretMap member_map_{client_, clock_, "labkube-system", "labkube-members"};
  SecretMap session_map_{client_, clock_, "labkube-system", "labkube-sessions"};
  MemberStore members_{member_map_};
  SessionStore sessions_{session_map_, clock_, SessionOptions{}};
  std::unique_ptr<PasswordHasher> hasher_;
  Lockout lockout_{clock_, LockoutOptions{}};
  TokenIssuer issuer_{client_};
  MemberProvisioner provisioner_{client_, ProvisionerOptions{}};
  CallerIdentity identity_{tokens_, client_, "lab-"};
  AuthenticatorOptions options_;
  std::unique_ptr<Authenticator> auth_;
  std::string admin_;
  std::ostringstream log_;
};

TEST_F(AuthenticatorTest, LoginIssuesKubeconfigTokenAndRefreshToken) {
  ASSERT_TRUE(auth_->CreateMember(Ctx(admin_), {"alice", {}, false}, "wonderland").ok());
  clock_.Advance(absl::Minutes(1));
  auto c = auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kToken);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->member, "alice");
  EXPECT_EQ(c->ns, "lab-alice");
  EXPECT_EQ(c->access.expiry, clock_.Now() + absl::Hours(8));
  EXPECT_EQ(c->refresh_expiry, clock_.Now() + absl::Hours(24 * 7));
  EXPECT_TRUE(SessionStore::IsWellFormed(c->refresh_token));
  EXPECT_NE(c->kubeconfig.find("token: " + c->access.token), std::string::npos);
  EXPECT_NE(c->kubeconfig.find("namespace: lab-alice"), std::string::npos);
  EXPECT_NE(c->kubeconfig.find("server: https://lab.example:6443"), std::string::npos);
  auto record = members_.Get("alice");
  EXPECT_EQ((*record)->last_login, clock_.Now());

  auto exec = auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kExec);
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->kubeconfig.find(exec->access.token), std::string::npos);
  EXPECT_NE(exec->kubeconfig.find("command: labctl"), std::string::npos);
}

TEST_F(AuthenticatorTest, LoginRestoresMissingBindingsOfOlderMembers) {
  AddMember("alice", "wonderland");
  ASSERT_TRUE(client_.Delete(res::RoleBindings(), "lab-alice", "labkube-gateway").ok());
  ASSERT_TRUE(auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kToken).ok());
  EXPECT_TRUE(client_.Get(res::RoleBindings(), "lab-alice", "labkube-gateway").ok());
}

TEST_F(AuthenticatorTest, UnknownUserAndWrongPasswordLookAlike) {
  AddMember("alice", "wonderland");
  auto wrong = auth_->Login(Ctx(), "alice", "nope", CredentialForm::kToken);
  auto unknown = auth_->Login(Ctx(), "mallory", "nope", CredentialForm::kToken);
  EXPECT_EQ(wrong.status().code(), kUnauthenticated);
  EXPECT_EQ(wrong.status(), unknown.status());
  // A member without a password cannot log in, with the same answer.
  ASSERT_TRUE(auth_->CreateMember(Ctx(admin_), {"nopw", {}, false}, "").ok());
  EXPECT_EQ(auth_->Login(Ctx(), "nopw", "", CredentialForm::kToken).status(), wrong.status());
}

TEST_F(AuthenticatorTest, LockoutTriggersAndLifts) {
  AddMember("alice", "wonderland");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        auth_->Login(Ctx("", "10.9.9.9"), "alice", "bad", CredentialForm::kToken).status().code(),
        kUnauthenticated);
  }
  auto locked = auth_->Login(Ctx("", "10.1.1.1"), "alice", "wonderland", CredentialForm::kToken);
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(RetryAfter(locked.status()).has_value());
  // The guessing peer is locked for other users too.
  EXPECT_EQ(
      auth_->Login(Ctx("", "10.9.9.9"), "root", "root-pw", CredentialForm::kToken).status().code(),
      absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Minutes(5));
  EXPECT_TRUE(
      auth_->Login(Ctx("", "10.1.1.1"), "alice", "wonderland", CredentialForm::kToken).ok());
}

TEST_F(AuthenticatorTest, RefreshUntilTheSessionsMaximumAge) {
  AddMember("alice", "wonderland");
  auto c = auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kToken);
  clock_.Advance(absl::Hours(9));
  auto r = auth_->Refresh(Ctx(), c->refresh_token, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->access.token, c->access.token);
  EXPECT_TRUE(r->kubeconfig.empty());
  EXPECT_TRUE(tokens_.Verify(r->access.token).ok());
  auto with_config = auth_->Refresh(Ctx(), c->refresh_token, CredentialForm::kToken);
  EXPECT_NE(with_config->kubeconfig.find(with_config->access.token), std::string::npos);
  // Near the end of the session the token does not outlive it (but keeps the 10 min minimum).
  clock_.Advance(absl::Hours(24 * 7 - 9) - absl::Hours(1));
  r = auth_->Refresh(Ctx(), c->refresh_token, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access.expiry, clock_.Now() + absl::Hours(1));
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(auth_->Refresh(Ctx(), c->refresh_token, std::nullopt).status().code(),
            kUnauthenticated);
}

TEST_F(AuthenticatorTest, LogoutRevokes) {
  AddMember("alice", "wonderland");
  auto c = auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kToken);
  // The session's access tokens are bound to a Secret in the member's namespace ...
  auto session = sessions_.Lookup(c->refresh_token);
  ASSERT_TRUE(session.ok());
  ASSERT_EQ(session->binding.name.rfind(kSessionSecretPrefix, 0), 0u) << session->binding.name;
  ASSERT_TRUE(client_.Get(res::Secrets(), "lab-alice", session->binding.name).ok());
  ASSERT_TRUE(auth_->Logout(Ctx(), c->refresh_token).ok());
  // ... which logout deletes (the API server then refuses those tokens).
  EXPECT_EQ(client_.Get(res::Secrets(), "lab-alice", session->binding.name).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(auth_->Refresh(Ctx(), c->refresh_token, std::nullopt).status().code(),
            kUnauthenticated);
}

TEST_F(AuthenticatorTest, AdminCallsAreRefusedForMembersAndStrangers) {
  std::string alice = Bearer(AddMember("alice", "wonderland"));
  tokens_.AddToken("kube-admin", "kubernetes-admin");
  for (const std::string& auth : {alice, std::string("Bearer kube-admin")}) {
    EXPECT_EQ(auth_->CreateMember(Ctx(auth), {"bob", {}, false}, "").status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(auth_->DeleteMember(Ctx(auth), "root", false).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(auth_->ListMembers(Ctx(auth)).status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(auth_->IssueKubeconfig(Ctx(auth), "ci", "bot", {}).status().code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(auth_->SetPassword(Ctx(auth), "root", "x", "").code(),
              absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(auth_->ListMembers(Ctx()).status().code(), kUnauthenticated);
  EXPECT_EQ(auth_->ListMembers(Ctx("Bearer forged")).status().code(), kUnauthenticated);
}

TEST_F(AuthenticatorTest, DeleteMemberKillsTokensAndSessions) {
  std::string token = AddMember("alice", "wonderland");
  auto c = auth_->Login(Ctx(), "alice", "wonderland", CredentialForm::kToken);
  auto revoked = auth_->DeleteMember(Ctx(admin_), "alice", true);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(*revoked, 2);
  EXPECT_FALSE(tokens_.Verify(token).ok());
  EXPECT_EQ(auth_->Refresh(Ctx(), c->refresh_token, std::nullopt).status().code(),
            kUnauthenticated);
  EXPECT_EQ(client_.Get(res::Namespaces(), "", "lab-alice").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(auth_->DeleteMember(Ctx(admin_), "alice", true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(auth_->DeleteMember(Ctx(admin_), "root", true).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AuthenticatorTest, SetPasswordSelfAndAdmin) {
  std::string alice = Bearer(AddMember("alice", "old-pw"));
  auto session = auth_->Login(Ctx(), "alice", "old-pw", CredentialForm::kToken);
  EXPECT_EQ(auth_->SetPassword(Ctx(alice), "alice", "new-pw", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(auth_->SetPassword(Ctx(alice), "alice", "new-pw", "wrong").code(), kUnauthenticated);
  ASSERT_TRUE(auth_->SetPassword(Ctx(alice), "alice", "new-pw", "old-pw").ok());
  EXPECT_FALSE(auth_->Refresh(Ctx(), session->refresh_token, std::nullopt).ok());
  EXPECT_FALSE(auth_->Login(Ctx(), "alice", "old-pw", CredentialForm::kToken).ok());
  EXPECT_TRUE(auth_->Login(Ctx(), "alice", "new-pw", CredentialForm::kToken).ok());
  // Without a bearer token, the old password alone is enough.
  ASSERT_TRUE(auth_->SetPassword(Ctx(), "alice", "newer-pw", "new-pw").ok());
  // Admins need no old password.
  ASSERT_TRUE(auth_->SetPassword(Ctx(admin_), "alice", "admin-set", "").ok());
  EXPECT_TRUE(auth_->Login(Ctx(), "alice", "admin-set", CredentialForm::kToken).ok());
  EXPECT_EQ(auth_->SetPassword(Ctx(admin_), "nobody", "x", "").code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthenticatorTest, ListMembers) {
  ASSERT_TRUE(auth_->CreateMember(Ctx(admin_), {"bob", {{"pods", "5"}}, false}, "").ok());
  auto list = auth_->ListMembers(Ctx(admin_));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  const MemberInfo& bob = (*list)[0];
  EXPECT_EQ(bob.name, "bob");
  EXPECT_FALSE(bob.admin);
  EXPECT_FALSE(bob.has_password);
  EXPECT_FALSE(bob.last_login.has_value());
  EXPECT_EQ(bob.quota.at("pods"), "5");
  const MemberInfo& root = (*list)[1];
  EXPECT_TRUE(root.admin);
  EXPECT_TRUE(root.has_password);
  EXPECT_TRUE(root.last_login.has_value());
  EXPECT_EQ(root.active_sessions, 1);
  EXPECT_EQ(auth_->CreateMember(Ctx(admin_), {"bob", {}, false}, "").status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(AuthenticatorTest, NamesMustLeaveRoomForTheNamespacePrefix) {
  absl::Status s = auth_->CreateMember(Ctx(admin_), {std::string(60, 'a'), {}, false}, "").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("name: too long"), absl::string_view::npos) << s;
  EXPECT_TRUE(auth_->CreateMember(Ctx(admin_), {std::string(59, 'a'), {}, false}, "").ok());
}

TEST_F(AuthenticatorTest, FailedCreateRollsBackWithoutTouchingForeignNamespaces) {
  rapidjson::Document ns = json::NewObject("v1", "Namespace", "", "lab-carol");
  ASSERT_TRUE(client_.Create(res::Namespaces(), "", ns).ok());
  rapidjson::Document sa = json::NewObject("v1", "ServiceAccount", "lab-carol", "carol");
  ASSERT_TRUE(client_.Create(res::ServiceAccounts(), "lab-carol", sa).ok());
  EXPECT_EQ(auth_->CreateMember(Ctx(admin_), {"carol", {}, false}, "pw").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(members_.Get("carol", true)->has_value());
  EXPECT_TRUE(client_.Get(res::Namespaces(), "", "lab-carol").ok());
  EXPECT_TRUE(client_.Get(res::ServiceAccounts(), "lab-carol", "carol").ok());
}

TEST_F(AuthenticatorTest, IssueKubeconfigOnlyForLabelledServiceAccounts) {
  rapidjson::Document sa = json::NewObject("v1", "ServiceAccount", "ci", "bot");
  ASSERT_TRUE(client_.Create(res::ServiceAccounts(), "ci", sa).ok());
  EXPECT_EQ(auth_->IssueKubeconfig(Ctx(admin_), "ci", "bot", {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(client_
                  .Patch(res::ServiceAccounts(), "ci", "bot", kube::PatchType::kMergePatch,
                         R"({"metadata":{"labels":{"labkube.io/kubeconfig":"enabled"}}})")
                  .ok());
  auto k = auth_->IssueKubeconfig(Ctx(admin_), "ci", "bot", absl::Hours(24 * 365));
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->expiry, clock_.Now() + absl::Hours(24 * 7));  // capped
  EXPECT_NE(k->kubeconfig.find("namespace: ci"), std::string::npos);
  EXPECT_EQ(auth_->IssueKubeconfig(Ctx(admin_), "ci", "ghost", {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuthenticatorTest, NoSecretsInTheStoreOrTheLog) {
  std::string token = AddMember("alice", "wonderland-secret");
  auto c = auth_->Login(Ctx(), "alice", "wonderland-secret", CredentialForm::kToken);
  auth_->Login(Ctx(), "alice", "typo-secret", CredentialForm::kToken).status().IgnoreError();
  auth_->Refresh(Ctx(), c->refresh_token, std::nullopt).status().IgnoreError();
  auto secret = client_.Get(res::Secrets(), "labkube-system", "labkube-members");
  ASSERT_TRUE(secret.ok());
  std::string stored = json::ToString(*secret);
  EXPECT_EQ(stored.find("wonderland"), std::string::npos);
  std::string decoded = members_.Get("alice").value()->password_hash;
  EXPECT_EQ(decoded.rfind("$y$", 0), 0u);
  std::string log = log_.str();
  EXPECT_NE(log.find("\"action\":\"login\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"action\":\"refresh\""), std::string::npos);
  EXPECT_NE(log.find("\"action\":\"create_member\""), std::string::npos);
  for (const std::string& secret_text :
       {std::string("wonderland"), std::string("typo"), token, c->access.token, c->refresh_token,
        SessionStore::Key(c->refresh_token), decoded}) {
    EXPECT_EQ(log.find(secret_text), std::string::npos) << secret_text;
  }
}

}  // namespace
}  // namespace labkube::authenticator
