// The authenticator against the real kube-apiserver: issued kubeconfigs work with kubectl in
// the member's own namespace only, refresh gives working tokens, DeleteMember makes the API
// server reject old tokens, expired/revoked refresh tokens fail, lockout triggers and lifts,
// admin calls are refused for members, and the hash Secret never holds a plaintext.
#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "tests/integration/authenticator/auth_fixture.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

// The last line of kubectl's output (`auth can-i` answers there, after any warnings).
std::string Answer(const it::CommandResult& r) {
  std::string s = r.output;
  size_t end = s.find_last_not_of(" \n\r\t");
  if (end == std::string::npos) return "";
  s.resize(end + 1);
  size_t start = s.find_last_of('\n');
  return start == std::string::npos ? s : s.substr(start + 1);
}

TEST_F(AuthClusterTest, KubeconfigWorksInOwnNamespaceAndIsForbiddenInOthers) {
  std::string alice = NewMember("alice", "alice-pw-1");
  std::string bob = NewMember("bob", "bob-pw-1");
  api::LoginResponse a, b;
  ASSERT_TRUE(Login(alice, "alice-pw-1", &a).ok());
  ASSERT_TRUE(Login(bob, "bob-pw-1", &b).ok());
  EXPECT_EQ(a.namespace_(), "lab-" + alice);

  // Default namespace from the context: the member's own.
  it::CommandResult own = Kubectl(a.kubeconfig(), {"auth", "can-i", "create", "pods"});
  EXPECT_EQ(Answer(own), "yes") << own.output;
  EXPECT_EQ(Answer(Kubectl(a.kubeconfig(), {"auth", "can-i", "create", "deployments.apps"})),
            "yes");
  EXPECT_EQ(Answer(Kubectl(a.kubeconfig(), {"auth", "can-i", "list", "machines.labkube.io"})),
            "yes");
  EXPECT_EQ(Kubectl(a.kubeconfig(), {"get", "pods"}).exit_code, 0);
  // Both ways: neither may touch the other's namespace, nor anything cluster-wide.
  it::CommandResult cross =
      Kubectl(a.kubeconfig(), {"auth", "can-i", "create", "pods", "-n", b.namespace_()});
  EXPECT_EQ(Answer(cross), "no") << cross.output;
  EXPECT_EQ(Answer(Kubectl(b.kubeconfig(), {"auth", "can-i", "get", "pods", "-n", a.namespace_()})),
            "no");
  it::CommandResult forbidden = Kubectl(b.kubeconfig(), {"get", "pods", "-n", a.namespace_()});
  EXPECT_NE(forbidden.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(forbidden.output, "Forbidden")) << forbidden.output;
  EXPECT_EQ(Answer(Kubectl(a.kubeconfig(), {"auth", "can-i", "create", "namespaces"})), "no");
  EXPECT_EQ(Answer(Kubectl(a.kubeconfig(), {"auth", "can-i", "get", "secrets"})), "no");
  it::CommandResult whoami =
      Kubectl(a.kubeconfig(), {"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"});
  EXPECT_EQ(whoami.output, absl::StrCat("system:serviceaccount:lab-", alice, ":", alice));
}

TEST_F(AuthClusterTest, ExecFormKubeconfigNamesTheCredentialPlugin) {
  std::string alice = NewMember("exec", "pw-exec-1");
  api::LoginResponse r;
  ASSERT_TRUE(Login(alice, "pw-exec-1", &r, api::KUBECONFIG_FORM_EXEC).ok());
  EXPECT_FALSE(absl::StrContains(r.kubeconfig(), r.access_token()));
  it::CommandResult view = Kubectl(
      r.kubeconfig(), {"config", "view", "-o",
                       "jsonpath={.users[0].user.exec.apiVersion} {.users[0].user.exec.command} "
                       "{.users[0].user.exec.args[0]} {.users[0].user.exec.interactiveMode} "
                       "{.contexts[0].context.namespace}"});
  EXPECT_EQ(view.output,
            absl::StrCat("client.authentication.k8s.io/v1 labctl credential Never lab-", alice));
}

TEST_F(AuthClusterTest, RefreshGivesAWorkingNewToken) {
  std::string alice = NewMember("refresh", "pw-refresh-1");
  api::LoginResponse login;
  ASSERT_TRUE(Login(alice, "pw-refresh-1", &login).ok());
  api::RefreshResponse r;
  grpc::Status s = Refresh(login.refresh_token(), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(r.access_token(), login.access_token());
  EXPECT_TRUE(TokenAccepted(r.access_token()));
  // The expiry the API server granted: about 8 h from now.
  int64_t ttl = r.access_token_expiry().seconds() - absl::ToUnixSeconds(absl::Now());
  EXPECT_GT(ttl, 8 * 3600 - 120);
  EXPECT_LE(ttl, 8 * 3600 + 5);
  EXPECT_EQ(Answer(Kubectl(r.kubeconfig(), {"auth", "can-i", "create", "pods"})), "yes");
}

TEST_F(AuthClusterTest, DeleteMemberMakesTheApiServerRejectOldTokens) {
  std::string alice = NewMember("gone", "pw-gone-1");
  api::LoginResponse login;
  ASSERT_TRUE(Login(alice, "pw-gone-1", &login).ok());
  ASSERT_TRUE(TokenAccepted(login.access_token()));
  auto ctx = Context(AdminToken());
  api::DeleteMemberRequest req;
  req.set_name(alice);
  req.set_delete_namespace(true);
  api::DeleteMemberResponse res;
  grpc::Status s = stub_->DeleteMember(ctx.get(), req, &res);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(res.revoked_sessions(), 1);
  EXPECT_TRUE(it::WaitFor([&] { return !TokenAccepted(login.access_token()); }, absl::Seconds(10)));
  it::CommandResult rejected = Kubectl(login.kubeconfig(), {"get", "pods"});
  EXPECT_NE(rejected.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(rejected.output, "Unauthorized")) << rejected.output;
  api::RefreshResponse r;
  EXPECT_EQ(Refresh(login.refresh_token(), &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  api::LoginResponse again;
  EXPECT_EQ(Login(alice, "pw-gone-1", &again).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// Logout and a password change end the access tokens too, not only the refresh token: each
// login's tokens are bound to a session Secret that they delete, and the API server refuses a
// token whose bound object is gone. (Before, a logged-out kubeconfig kept working for hours.)
TEST_F(AuthClusterTest, LogoutAndPasswordChangeEndTheAccessTokens) {
  std::string alice = NewMember("bye", "pw-bye-1");
  api::LoginResponse first, second, other;
  ASSERT_TRUE(Login(alice, "pw-bye-1", &first).ok());
  ASSERT_TRUE(Login(alice, "pw-bye-1", &second).ok());
  ASSERT_TRUE(TokenAccepted(first.access_token()));
  api::RefreshResponse refreshed;
  ASSERT_TRUE(Refresh(first.refresh_token(), &refreshed).ok());
  ASSERT_TRUE(TokenAccepted(refreshed.access_token()));
  auto ctx = Context();
  api::LogoutRequest logout;
  logout.set_refresh_token(first.refresh_token());
  api::LogoutResponse out;
  ASSERT_TRUE(stub_->Logout(ctx.get(), logout, &out).ok());
  EXPECT_TRUE(it::WaitFor([&] { return !TokenAccepted(first.access_token()); }, absl::Seconds(10)))
      << "the logged-out session's first token still works";
  // Polled as well: the API server caches a token's last verdict for a few seconds, and the
  // refreshed token's entry was made after the first one's (a CI run met it still cached).
  EXPECT_TRUE(
      it::WaitFor([&] { return !TokenAccepted(refreshed.access_token()); }, absl::Seconds(10)))
      << "nor any token refreshed from it";
  EXPECT_TRUE(TokenAccepted(second.access_token())) << "another session is not touched";

  auto pw = Context(second.access_token());
  api::SetPasswordRequest change;
  change.set_name(alice);
  change.set_old_password("pw-bye-1");
  change.set_new_password("pw-bye-2-longer");
  api::SetPasswordResponse changed;
  grpc::Status s = stub_->SetPassword(pw.get(), change, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(it::WaitFor([&] { return !TokenAccepted(second.access_token()); }, absl::Seconds(10)))
      << "a password change ends every session's tokens";
  ASSERT_TRUE(Login(alice, "pw-bye-2-longer", &other).ok());
  EXPECT_TRUE(TokenAccepted(other.access_token()));
}

TEST_F(AuthClusterTest, RevokedAndExpiredRefreshTokensFail) {
  StartServer([](Options& o) { o.session_max_age = absl::Seconds(3); });
  std::string alice = NewMember("session", "pw-session-1");
  api::LoginResponse first, second;
  ASSERT_TRUE(Login(alice, "pw-session-1", &first).ok());
  ASSERT_TRUE(Login(alice, "pw-session-1", &second).ok());
  auto ctx = Context();
  api::LogoutRequest logout;
  logout.set_refresh_token(first.refresh_token());
  api::LogoutResponse out;
  ASSERT_TRUE(stub_->Logout(ctx.get(), logout, &out).ok());
  api::RefreshResponse r;
  EXPECT_EQ(Refresh(first.refresh_token(), &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Refresh(second.refresh_token(), &r).ok());
  absl::Time start = absl::Now();
  EXPECT_TRUE(it::WaitFor(
      [&] {
        return Refresh(second.refresh_token(), &r).error_code() ==
               grpc::StatusCode::UNAUTHENTICATED;
      },
      absl::Seconds(15)));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
}

TEST_F(AuthClusterTest, LockoutTriggersAndLifts) {
  StartServer([](Options& o) { o.lockout_window = absl::Seconds(4); });
  std::string alice = NewMember("locked", "pw-locked-1");
  api::LoginResponse r;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login(alice, "wrong", &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status locked = Login(alice, "pw-locked-1", &r);
  EXPECT_EQ(locked.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << locked.error_message();
  EXPECT_TRUE(absl::StrContains(locked.error_message(), "retry in")) << locked.error_message();
  absl::Time start = absl::Now();
  EXPECT_TRUE(it::WaitFor([&] { return Login(alice, "pw-locked-1", &r).ok(); }, absl::Seconds(15)));
  EXPECT_GE(absl::Now() - start, absl::Seconds(1));
}

TEST_F(AuthClusterTest, AdminCallsAreRefusedForMembers) {
  std::string alice = NewMember("plain", "pw-plain-1");
  api::LoginResponse login;
  ASSERT_TRUE(Login(alice, "pw-plain-1", &login).ok());
  const std::string& token = login.access_token();
  {
    auto ctx = Context(token);
    api::CreateMemberRequest req;
    req.set_name(it::UniqueName("mallory"));
    api::Member m;
    EXPECT_EQ(stub_->CreateMember(ctx.get(), req, &m).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto ctx = Context(token);
    api::ListMembersResponse list;
    EXPECT_EQ(stub_->ListMembers(ctx.get(), {}, &list).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto ctx = Context(token);
    api::DeleteMemberRequest req;
    req.set_name(admin_name_);
    api::DeleteMemberResponse res;
    EXPECT_EQ(stub_->DeleteMember(ctx.get(), req, &res).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto ctx = Context(token);
    api::SetPasswordRequest req;
    req.set_name(admin_name_);
    req.set_new_password("hijacked");
    api::SetPasswordResponse res;
    EXPECT_EQ(stub_->SetPassword(ctx.get(), req, &res).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    auto ctx = Context("not-a-token");
    api::ListMembersResponse list;
    EXPECT_EQ(stub_->ListMembers(ctx.get(), {}, &list).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // A member may change their own password with the old one.
  auto ctx = Context(token);
  api::SetPasswordRequest req;
  req.set_name(alice);
  req.set_old_password("pw-plain-1");
  req.set_new_password("pw-plain-2");
  api::SetPasswordResponse res;
  grpc::Status s = stub_->SetPassword(ctx.get(), req, &res);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Login(alice, "pw-plain-2", &login).ok());
}

TEST_F(AuthClusterTest, HashSecretNeverHoldsAPlaintext) {
  std::string alice = NewMember("hash", "very-distinctive-password-42");
  api::LoginResponse login;
  ASSERT_TRUE(Login(alice, "very-distinctive-password-42", &login).ok());
  auto secret = admin_client_->Get(res::Secrets(), "labkube-system", "labkube-members");
  ASSERT_TRUE(secret.ok()) << secret.status();
  const rapidjson::Value* data = json::Find(*secret, {"data"});
  ASSERT_NE(data, nullptr);
  bool found = false;
  for (auto it = data->MemberBegin(); it != data->MemberEnd(); ++it) {
    std::string value;
    ASSERT_TRUE(absl::Base64Unescape(std::string(json::View(it->value)), &value));
    EXPECT_FALSE(absl::StrContains(value, "very-distinctive-password-42"));
    EXPECT_FALSE(absl::StrContains(value, admin_password_));
    auto record = json::Parse(value);
    ASSERT_TRUE(record.ok());
    std::string hash(json::GetString(*record, {"passwordHash"}));
    EXPECT_TRUE(hash.empty() || absl::StartsWith(hash, "$y$") || absl::StartsWith(hash, "$2b$"))
        << json::View(it->name);
    if (json::View(it->name) == alice) found = true;
  }
  EXPECT_TRUE(found);
  auto sessions = admin_client_->Get(res::Secrets(), "labkube-system", "labkube-sessions");
  ASSERT_TRUE(sessions.ok());
  EXPECT_FALSE(absl::StrContains(json::ToString(*sessions), login.refresh_token()));
}

TEST_F(AuthClusterTest, AdminCallsNeedATokenIssuedForLabkube) {
  // The admin's own ServiceAccount token, as a pod running as that ServiceAccount has it
  // mounted: the API server accepts it, the authenticator's admin methods do not.
  absl::StatusOr<std::string> pod_token =
      it::Kubectl({"create", "token", admin_name_, "-n", "lab-" + admin_name_});
  ASSERT_TRUE(pod_token.ok()) << pod_token.status();
  std::string token(absl::StripAsciiWhitespace(*pod_token));
  EXPECT_TRUE(TokenAccepted(token));
  api::CreateMemberRequest req;
  req.set_name(it::UniqueName("viapod"));
  req.set_password("a-long-enough-password");
  api::Member m;
  grpc::Status s = stub_->CreateMember(Context(token).get(), req, &m);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "audience")) << s.error_message();
  // The login token names both audiences: kubectl and the admin methods accept it.
  std::string login = AdminToken();
  EXPECT_TRUE(TokenAccepted(login));
  api::ListMembersRequest list;
  api::ListMembersResponse members;
  s = stub_->ListMembers(Context(login).get(), list, &members);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(AuthClusterTest, IssueKubeconfigForLabelledServiceAccounts) {
  std::string ns = it::UniqueName("it-bots");
  rapidjson::Document bots = json::NewObject("v1", "Namespace", "", ns);
  // Bots' namespaces are opted in by an admin (k8s/authenticator/scope-policy.yaml).
  json::SetString(bots, {"metadata", "labels", "labkube.io/kubeconfig"}, "enabled");
  ASSERT_TRUE(admin_client_->Create(res::Namespaces(), "", bots).ok());
  rapidjson::Document sa = json::NewObject("v1", "ServiceAccount", ns, "ci");
  ASSERT_TRUE(admin_client_->Create(res::ServiceAccounts(), ns, sa).ok());
  std::string admin = AdminToken();
  api::IssueKubeconfigRequest req;
  req.set_namespace_(ns);
  req.set_service_account("ci");
  api::IssueKubeconfigResponse res;
  EXPECT_EQ(stub_->IssueKubeconfig(Context(admin).get(), req, &res).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(admin_client_
                  ->Patch(res::ServiceAccounts(), ns, "ci", kube::PatchType::kMergePatch,
                          R"({"metadata":{"labels":{"labkube.io/kubeconfig":"enabled"}}})")
                  .ok());
  req.set_expiration_seconds(60);  // raised to the 10-minute minimum
  grpc::Status s = stub_->IssueKubeconfig(Context(admin).get(), req, &res);
  ASSERT_TRUE(s.ok()) << s.error_message();
  int64_t ttl = res.expiry().seconds() - absl::ToUnixSeconds(absl::Now());
  EXPECT_GE(ttl, 590);
  it::CommandResult whoami =
      Kubectl(res.kubeconfig(), {"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"});
  EXPECT_EQ(whoami.output, absl::StrCat("system:serviceaccount:", ns, ":ci"));
  kube::DeleteOptions o;
  o.propagation_policy = "Background";
  EXPECT_TRUE(admin_client_->Delete(res::Namespaces(), "", ns, o).ok());
}

TEST_F(AuthClusterTest, RejectedQuotaNamesTheFieldAndLeavesNothingBehind) {
  std::string name = it::UniqueName("quota");
  api::CreateMemberRequest req;
  req.set_name(name);
  (*req.mutable_quota())["pods"] = "lots";
  api::Member m;
  grpc::Status s = stub_->CreateMember(Context(AdminToken()).get(), req, &m);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "quota:")) << s.error_message();
  EXPECT_EQ(admin_client_->Get(res::ServiceAccounts(), "lab-" + name, name).status().code(),
            absl::StatusCode::kNotFound);
  // A corrected request succeeds once the rolled-back namespace is gone.
  (*req.mutable_quota())["pods"] = "10";
  std::string admin = AdminToken();
  EXPECT_TRUE(it::WaitFor(
      [&] {
        s = stub_->CreateMember(Context(admin).get(), req, &m);
        return s.error_code() != grpc::StatusCode::FAILED_PRECONDITION;
      },
      absl::Seconds(60)));
  ASSERT_TRUE(s.ok()) << s.error_message();
  created_.push_back(name);
  auto quota = admin_client_->Get(res::ResourceQuotas(), "lab-" + name, "labkube-quota");
  ASSERT_TRUE(quota.ok()) << quota.status();
  EXPECT_EQ(json::GetString(*quota, {"spec", "hard", "pods"}), "10");
}

}  // namespace
}  // namespace labkube::authenticator
