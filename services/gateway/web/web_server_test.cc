// The page's API against a whole in-process gateway (GatewayHarness): real gRPC service and
// handlers, fake scheduler, authenticator and Kubernetes behind them.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/contract.h"
#include "services/gateway/testing/harness.h"
#include "services/gateway/web/session_cookie.h"

namespace labkube::gateway::web {
namespace {

using gateway::testing::GatewayHarness;

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.web_port = 0;
    auto h = GatewayHarness::Start(options);
    ASSERT_TRUE(h.ok()) << h.status();
    h_ = std::move(*h);
    h_->AddMember("alice", "alice-pw", false);
    h_->AddMember("bob", "bob-pw", false);
    h_->SetDefaultMachineTypes();
    ASSERT_GT(h_->gateway().web_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", h_->gateway().web_port());
    http_->set_read_timeout(30, 0);
  }

  httplib::Headers Page(const std::string& cookie, const std::string& csrf) {
    httplib::Headers h = {{"Origin", Origin()}, {"Sec-Fetch-Site", "same-origin"}};
    if (!cookie.empty()) h.emplace("Cookie", cookie);
    if (!csrf.empty()) h.emplace(kCsrfHeader, csrf);
    return h;
  }
  std::string Origin() { return absl::StrCat("http://127.0.0.1:", h_->gateway().web_port()); }

  // Signs in; sets cookie_ ("name=value") and csrf_.
  void SignIn(const std::string& user, const std::string& password) {
    auto r = http_->Post("/api/login", Page("", ""),
                         absl::StrCat(R"({"username":")", user, R"(","password":")", password,
                                      R"("})"),
                         "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    std::string set = r->get_header_value("Set-Cookie");
    cookie_ = set.substr(0, set.find(';'));
    size_t at = r->body.find("\"csrfToken\":\"") + 13;
    csrf_ = r->body.substr(at, r->body.find('"', at) - at);
  }

  httplib::Result Api(const std::string& method, const std::string& body) {
    return http_->Post(absl::StrCat("/api/v1alpha1/", method), Page(cookie_, csrf_), body,
                       "application/json");
  }

  std::unique_ptr<GatewayHarness> h_;
  std::unique_ptr<httplib::Client> http_;
  std::string cookie_, csrf_;
};

TEST_F(WebServerTest, ServesThePageWithStrictHeaders) {
  auto r = http_->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StrContains(r->get_header_value("Content-Security-Policy"),
                                "default-src 'self'"));
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(http_->Get("/app.js")->status, 200);
  EXPECT_EQ(http_->Get("/nothing-here")->status, 404);
}

TEST_F(WebServerTest, SignInSetsAStrictCookieAndGivesTheCsrfToken) {
  SignIn("alice", "alice-pw");
  EXPECT_TRUE(absl::StartsWith(cookie_, "__Host-labkube-session="));
  EXPECT_EQ(csrf_.size(), 43u);
  auto r = http_->Get("/api/session", Page(cookie_, ""));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, R"("member":"alice")")) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, csrf_));
  EXPECT_FALSE(absl::StrContains(r->body, "token-alice")) << "tokens never reach script";
  EXPECT_FALSE(absl::StrContains(r->body, "refresh-alice"));
}

TEST_F(WebServerTest, WrongPasswordIsTheGatewaysOwnError) {
  auto r = http_->Post("/api/login", Page("", ""), R"({"username":"alice","password":"nope"})",
                       "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->body, R"({"code":"UNAUTHENTICATED","message":"wrong username or password"})");
  EXPECT_TRUE(r->get_header_value("Set-Cookie").empty());
  // The same words labctl gets over gRPC.
  auto stub = gw::Gateway::NewStub(
      grpc::CreateChannel(h_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  gw::LoginRequest req;
  req.set_username("alice");
  req.set_password("nope");
  gw::LoginResponse resp;
  EXPECT_EQ(stub->Login(&ctx, req, &resp).error_message(), "wrong username or password");

  auto bad = http_->Post("/api/login", Page("", ""), R"({"username":"Alice!","password":"x"})",
                         "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(absl::StrContains(bad->body, R"("message":"username: )")) << bad->body;
}

// One browser's wrong passwords lock out its own address only: the page names each browser's
// address on its in-process call, and the gateway forwards that to the authenticator.
TEST_F(WebServerTest, WrongPasswordsLockOutOnlyThatBrowsersAddress) {
  h_->authenticator().LockAddressesAfter(3);
  httplib::Client guesser("127.0.0.1", h_->gateway().web_port());
  guesser.set_interface("127.0.0.2");  // another address on the loopback network
  auto login = [&](const std::string& password) {
    return guesser.Post("/api/login", Page("", ""),
                        absl::StrCat(R"({"username":"alice","password":")", password, R"("})"),
                        "application/json");
  };
  for (int i = 0; i < 3; ++i) {
    auto r = login("nope");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
  }
  EXPECT_EQ(h_->authenticator().LastMetadata("x-forwarded-for"), "127.0.0.2");
  auto locked = login("alice-pw");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 429) << locked->body;

  SignIn("alice", "alice-pw");  // another browser (127.0.0.1), the same member
  EXPECT_EQ(h_->authenticator().LastMetadata("x-forwarded-for"), "127.0.0.1");
}

// Only the web page's in-process calls may name a client address: a remote gRPC caller that
// sends the same metadata is still known by its own.
TEST_F(WebServerTest, ARemoteCallerCannotNameItsOwnAddress) {
  auto stub = gw::Gateway::NewStub(
      grpc::CreateChannel(h_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata(contract::kWebClientAddressMetadata, "10.9.9.9");
  gw::LoginRequest req;
  req.set_username("alice");
  req.set_password("nope");
  gw::LoginResponse resp;
  EXPECT_EQ(stub->Login(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(h_->authenticator().LastMetadata("x-forwarded-for"), "127.0.0.1");
}

TEST_F(WebServerTest, CallsMapOntoTheGatewayMethods) {
  SignIn("alice", "alice-pw");
  auto r = Api("ListMachineTypes", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, R"("name":"rtx3090")")) << r->body;
  auto who = Api("WhoAmI", "");
  EXPECT_TRUE(absl::StrContains(who->body, R"("namespace":"lab-alice")")) << who->body;
  // The gateway's own rule and message: another member's workspaces are not alice's to see.
  auto other = Api("ListWorkspaces", R"({"member":"bob"})");
  EXPECT_EQ(other->status, 403) << other->body;
  EXPECT_TRUE(absl::StrContains(other->body, R"("code":"PERMISSION_DENIED")")) << other->body;
  // Admin-only methods say so.
  auto members = Api("ListMembers", "{}");
  EXPECT_EQ(members->status, 403);
  EXPECT_TRUE(absl::StrContains(members->body, "only admins may list members")) << members->body;
  // Session methods are not callable by name.
  EXPECT_EQ(Api("Login", "{}")->status, 404);
  EXPECT_EQ(Api("Refresh", "{}")->status, 404);
}

TEST_F(WebServerTest, ChangesNeedTheSessionAndItsCsrfToken) {
  SignIn("alice", "alice-pw");
  auto no_cookie = http_->Post("/api/v1alpha1/WhoAmI", Page("", csrf_), "{}", "application/json");
  EXPECT_EQ(no_cookie->status, 401);
  EXPECT_TRUE(absl::StrContains(no_cookie->body, "not signed in")) << no_cookie->body;
  auto no_csrf = http_->Post("/api/v1alpha1/WhoAmI", Page(cookie_, ""), "{}", "application/json");
  EXPECT_EQ(no_csrf->status, 403);
  EXPECT_TRUE(absl::StrContains(no_csrf->body, "X-CSRF-Token")) << no_csrf->body;
  httplib::Headers evil = {{"Cookie", cookie_}, {kCsrfHeader, csrf_},
                           {"Origin", "https://evil.example"}};
  EXPECT_EQ(http_->Post("/api/v1alpha1/WhoAmI", evil, "{}", "application/json")->status, 403);
  auto form = http_->Post("/api/v1alpha1/WhoAmI", Page(cookie_, csrf_), "a=b",
                          "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 403);
  auto cross_login = http_->Post("/api/login", {{"Sec-Fetch-Site", "cross-site"}},
                                 R"({"username":"alice","password":"alice-pw"})",
                                 "application/json");
  EXPECT_EQ(cross_login->status, 403);
}

TEST_F(WebServerTest, AnExpiringAccessTokenIsRefreshedIntoANewCookie) {
  SignIn("alice", "alice-pw");
  absl::StatusOr<WebSession> s =
      DecodeSession(cookie_.substr(cookie_.find('=') + 1));
  ASSERT_TRUE(s.ok());
  s->access_expiry = absl::Now() + absl::Seconds(30);
  cookie_ = absl::StrCat(kSessionCookie, "=", *EncodeSession(*s));
  auto r = Api("WhoAmI", "{}");
  EXPECT_EQ(r->status, 200) << r->body;
  std::vector<std::string> calls = h_->authenticator().Calls();
  EXPECT_NE(std::find(calls.begin(), calls.end(), "Refresh"), calls.end());
  std::string set = r->get_header_value("Set-Cookie");
  ASSERT_TRUE(absl::StartsWith(set, "__Host-labkube-session=")) << set;
  absl::StatusOr<WebSession> fresh =
      DecodeSession(set.substr(set.find('=') + 1, set.find(';') - set.find('=') - 1));
  ASSERT_TRUE(fresh.ok());
  EXPECT_GT(fresh->access_expiry, absl::Now() + absl::Minutes(30));

  // A session the authenticator no longer knows ends: the cookie is removed.
  s->refresh_token = "revoked";
  cookie_ = absl::StrCat(kSessionCookie, "=", *EncodeSession(*s));
  csrf_ = CsrfToken(*s);
  auto ended = Api("WhoAmI", "{}");
  EXPECT_EQ(ended->status, 401);
  EXPECT_EQ(ended->body, R"({"code":"UNAUTHENTICATED","message":"session expired: log in again"})");
  EXPECT_TRUE(absl::StrContains(ended->get_header_value("Set-Cookie"), "Max-Age=0"));
}

TEST_F(WebServerTest, LogoutRevokesTheSessionAndClearsTheCookie) {
  SignIn("alice", "alice-pw");
  auto r = http_->Post("/api/logout", Page(cookie_, csrf_), "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(absl::StrContains(r->get_header_value("Set-Cookie"), "Max-Age=0"));
  std::vector<std::string> calls = h_->authenticator().Calls();
  EXPECT_EQ(calls.back(), "Logout");
  EXPECT_EQ(http_->Post("/api/logout", Page(cookie_, ""), "{}", "application/json")->status, 403)
      << "logout is a change too";
}

TEST_F(WebServerTest, WatchesAreServerSentEvents) {
  SignIn("alice", "alice-pw");
  auto r = http_->Get("/api/v1alpha1/WatchMachineTypes", Page(cookie_, ""));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(r->body, "retry: 250\nid: ")) << r->body;
  EXPECT_TRUE(absl::StrContains(r->body, R"("name":"rtx3090")")) << r->body;

  auto other = http_->Get("/api/v1alpha1/WatchWorkspace?member=bob&name=ws1", Page(cookie_, ""));
  EXPECT_EQ(other->status, 200);
  EXPECT_TRUE(absl::StrContains(other->body, "event: failure\ndata: {\"code\":\"PERMISSION_DENIED\""))
      << other->body;
  auto signed_out = http_->Get("/api/v1alpha1/WatchMachineTypes");
  EXPECT_EQ(signed_out->status, 401);
}

TEST_F(WebServerTest, HistoryNeedsASession) {
  EXPECT_EQ(http_->Get("/api/history")->status, 401);
  SignIn("alice", "alice-pw");
  auto r = http_->Get("/api/history", Page(cookie_, ""));
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(absl::StartsWith(r->body, R"({"resolutionSeconds":60,"samples":[)")) << r->body;
}

}  // namespace
}  // namespace labkube::gateway::web
