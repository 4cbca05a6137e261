// In-process authenticator: fake Kubernetes API (our interface) with a fake TokenRequest and
// token verifier, real gRPC server on port 0 with real stubs and deadlines, plaintext on
// loopback.
#include "services/authenticator/server.h"

#include <grpcpp/grpcpp.h>

#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/log.h"
#include "lib/testing/wait_until.h"
#include "services/authenticator/bootstrap.h"
#include "services/authenticator/testing/fake_deps.h"
#include "spdlog/sinks/ostream_sink.h"

namespace labkube::authenticator {
namespace {

namespace api = ::labkube::auth::v1alpha1;
namespace res = kube::resources;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<kube::testing::FakeClient>();
    fake_ = fake.get();
    auto tokens = std::make_unique<testing::FakeTokenApi>(*fake_, Clock::Real());
    Options o;
    o.grpc_address = "127.0.0.1:0";
    o.http_address = "127.0.0.1";
    o.http_port = 0;
    o.plaintext = true;
    o.public_server = "https://lab.example:6443";
    o.hash_cost = 1;
    o.lockout_max_failures = 3;
    Configure(o);
    ASSERT_TRUE(BootstrapAdmin(*fake_, Clock::Real(), o, "root", "root-pw").ok());
    auto server = Server::Create(o, std::move(fake), Clock::Real(), std::move(tokens));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = api::Authenticator::NewStub(channel_);
  }

  // Changes to the options before the server starts.
  virtual void Configure(Options&) {}

  static void Prepare(grpc::ClientContext& ctx, const std::string& token = "") {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  }

  // `forwarded_for`: the x-forwarded-for metadata a proxy would add ("" = none).
  grpc::Status Login(const std::string& user, const std::string& password, api::LoginResponse* out,
                     const std::string& forwarded_for = "") {
    grpc::ClientContext ctx;
    Prepare(ctx);
    if (!forwarded_for.empty()) ctx.AddMetadata("x-forwarded-for", forwarded_for);
    api::LoginRequest req;
    req.set_username(user);
    req.set_password(password);
    return stub_->Login(&ctx, req, out);
  }

  std::string AdminToken() {
    api::LoginResponse r;
    EXPECT_TRUE(Login("root", "root-pw", &r).ok());
    return r.access_token();
  }

  kube::testing::FakeClient* fake_ = nullptr;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<api::Authenticator::Stub> stub_;
};

TEST_F(ServerTest, LoginRefreshAndHealth) {
  api::LoginResponse login;
  grpc::Status s = Login("root", "root-pw", &login);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(login.member(), "root");
  EXPECT_EQ(login.namespace_(), "lab-root");
  EXPECT_FALSE(login.access_token().empty());
  EXPECT_GT(login.access_token_expiry().seconds(), absl::ToUnixSeconds(absl::Now()));
  EXPECT_NE(login.kubeconfig().find(login.access_token()), std::string::npos);

  grpc::ClientContext ctx;
  Prepare(ctx);
  api::RefreshRequest req;
  req.set_refresh_token(login.refresh_token());
  req.set_want_kubeconfig(true);
  req.set_form(api::KUBECONFIG_FORM_EXEC);
  api::RefreshResponse refreshed;
  s = stub_->Refresh(&ctx, req, &refreshed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(refreshed.access_token(), login.access_token());
  EXPECT_NE(refreshed.kubeconfig().find("command: labctl"), std::string::npos);

  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext hctx;
  Prepare(hctx);
  grpc::health::v1::HealthCheckRequest hreq;
  hreq.set_service("labkube.auth.v1alpha1.Authenticator");
  grpc::health::v1::HealthCheckResponse hres;
  ASSERT_TRUE(health->Check(&hctx, hreq, &hres).ok());
  EXPECT_EQ(hres.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(labkube::testing::WaitUntil([&] { return server_->IsReady(); }));
}

TEST_F(ServerTest, AdminCallsNeedAnAdminBearerToken) {
  std::string admin = AdminToken();
  grpc::ClientContext ctx;
  Prepare(ctx, admin);
  api::CreateMemberRequest create;
  create.set_name("alice");
  create.set_password("wonderland");
  (*create.mutable_quota())["pods"] = "10";
  api::Member member;
  grpc::Status s = stub_->CreateMember(&ctx, create, &member);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(member.namespace_(), "lab-alice");
  EXPECT_TRUE(member.has_password());

  api::LoginResponse alice;
  ASSERT_TRUE(Login("alice", "wonderland", &alice).ok());
  grpc::ClientContext denied;
  Prepare(denied, alice.access_token());
  api::ListMembersResponse list;
  EXPECT_EQ(stub_->ListMembers(&denied, {}, &list).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext anonymous;
  Prepare(anonymous);
  EXPECT_EQ(stub_->ListMembers(&anonymous, {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext allowed;
  Prepare(allowed, admin);
  ASSERT_TRUE(stub_->ListMembers(&allowed, {}, &list).ok());
  ASSERT_EQ(list.members_size(), 2);
  EXPECT_EQ(list.members(0).name(), "alice");
  EXPECT_TRUE(list.members(0).has_last_login());
  EXPECT_EQ(list.members(0).quota().at("pods"), "10");
  EXPECT_TRUE(list.members(1).admin());
}

TEST_F(ServerTest, BadInputNamesTheField) {
  api::LoginResponse r;
  grpc::Status s = Login("Not_A_Label", "pw", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("username:", 0), 0u) << s.error_message();
  s = Login("alice", std::string(5000, 'x'), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("password:", 0), 0u) << s.error_message();
  // Whole messages beyond the server's limit never reach the handler.
  s = Login("alice", std::string(100 * 1024, 'x'), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::ClientContext ctx;
  Prepare(ctx, AdminToken());
  api::IssueKubeconfigRequest issue;
  issue.set_namespace_("ci");
  api::IssueKubeconfigResponse out;
  s = stub_->IssueKubeconfig(&ctx, issue, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("service_account:", 0), 0u) << s.error_message();
}

TEST_F(ServerTest, LockoutAnswersWithRetryTime) {
  api::LoginResponse r;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Login("root", "wrong", &r).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext ctx;
  Prepare(ctx);
  api::LoginRequest req;
  req.set_username("root");
  req.set_password("root-pw");
  grpc::Status s = stub_->Login(&ctx, req, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("retry in"), std::string::npos);
  auto trailer = ctx.GetServerTrailingMetadata().find("retry-after-seconds");
  ASSERT_NE(trailer, ctx.GetServerTrailingMetadata().end());
  EXPECT_GT(std::stoi(std::string(trailer->second.data(), trailer->second.size())), 0);
}

TEST_F(ServerTest, UnknownUserAndWrongPasswordGetTheSameAnswer) {
  api::LoginResponse r;
  grpc::Status wrong = Login("root", "nope", &r);
  grpc::Status unknown = Login("nobody", "nope", &r);
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown.error_code(), wrong.error_code());
  EXPECT_EQ(unknown.error_message(), wrong.error_message());
}

TEST_F(ServerTest, UntrustedPeerCannotDodgeTheClientLockoutWithXForwardedFor) {
  // No --trusted_proxies: every attempt counts against the real peer (127.0.0.1), whatever
  // address it claims to be forwarding for.
  api::LoginResponse r;
  for (auto [user, claimed] : {std::pair{"alice", "203.0.113.1"}, std::pair{"bob", "203.0.113.2"},
                               std::pair{"carol", "203.0.113.3"}}) {
    EXPECT_EQ(Login(user, "wrong", &r, claimed).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status s = Login("root", "root-pw", &r, "198.51.100.20");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("client"), std::string::npos) << s.error_message();
}

TEST(ServerOptionsTest, BadTrustedProxyRefusesToStart) {
  Options o;
  o.grpc_address = "127.0.0.1:0";
  o.http_address = "127.0.0.1";
  o.http_port = 0;
  o.plaintext = true;
  o.public_server = "https://lab.example:6443";
  o.trusted_proxies = "127.0.0.1, 10.244.0.0/33";
  auto server = Server::Create(o, std::make_unique<kube::testing::FakeClient>(), Clock::Real());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("trusted_proxies: bad entry \"10.244.0.0/33\""),
            absl::string_view::npos)
      << server.status();
}

// The gateway's view: the test client (127.0.0.1) is a trusted proxy, so the x-forwarded-for
// it sends names the client.
class TrustedProxyServerTest : public ServerTest {
 protected:
  void Configure(Options& o) override { o.trusted_proxies = "127.0.0.1, ::1"; }
  void TearDown() override { SetLogSink(nullptr); }
};

TEST_F(TrustedProxyServerTest, LockoutCountsTheForwardedClient) {
  std::ostringstream log;
  SetLogSink(std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  // One person behind the gateway guesses at several accounts: that client is locked out ...
  api::LoginResponse r;
  for (const char* user : {"alice", "bob", "carol"}) {
    EXPECT_EQ(Login(user, "wrong", &r, "203.0.113.7").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status s = Login("root", "root-pw", &r, "203.0.113.7");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("client"), std::string::npos) << s.error_message();
  // ... even when a client-supplied x-forwarded-for precedes the one the gateway appended.
  s = Login("root", "root-pw", &r, "198.51.100.99, 203.0.113.7");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Everybody else logging in through the same gateway is not.
  s = Login("root", "root-pw", &r, "198.51.100.20");
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = Login("root", "root-pw", &r);  // the proxy itself, without x-forwarded-for
  EXPECT_TRUE(s.ok()) << s.error_message();
  // A forwarded value that is not an address falls back to the peer (not locked).
  s = Login("root", "root-pw", &r, "unknown");
  EXPECT_TRUE(s.ok()) << s.error_message();
  // The audit log names the clients, not the gateway.
  const std::string lines = log.str();
  EXPECT_NE(lines.find("\"peer\":\"203.0.113.7\""), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"peer\":\"198.51.100.20\""), std::string::npos) << lines;
  EXPECT_NE(lines.find("authenticator.bad_forwarded_for"), std::string::npos) << lines;
}

}  // namespace
}  // namespace labkube::authenticator
