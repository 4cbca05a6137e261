#include "services/gateway/web/session_cookie.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace labkube::gateway::web {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

WebSession Sample() {
  gw::LoginResponse login;
  login.set_member("alice");
  login.set_namespace_("lab-alice");
  login.set_access_token(std::string(1200, 'a'));  // about a ServiceAccount JWT
  login.mutable_access_token_expiry()->set_seconds(absl::ToUnixSeconds(kNow + absl::Minutes(10)));
  login.set_refresh_token("refresh-secret");
  login.mutable_refresh_token_expiry()->set_seconds(absl::ToUnixSeconds(kNow + absl::Hours(12)));
  login.set_kubeconfig("not kept");
  return FromLogin(login);
}

TEST(SessionCookieTest, RoundTripsThroughTheCookie) {
  WebSession s = Sample();
  absl::StatusOr<std::string> value = EncodeSession(s);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_LT(value->size(), kMaxCookieValue);
  EXPECT_EQ(value->find_first_of(";, \"="), std::string::npos) << "cookie-safe characters";
  absl::StatusOr<WebSession> back = DecodeSession(*value);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->member, "alice");
  EXPECT_EQ(back->ns, "lab-alice");
  EXPECT_EQ(back->access_token, s.access_token);
  EXPECT_EQ(back->refresh_token, "refresh-secret");
  EXPECT_EQ(back->access_expiry, kNow + absl::Minutes(10));
  EXPECT_EQ(back->refresh_expiry, kNow + absl::Hours(12));
}

TEST(SessionCookieTest, GarbageIsNotSignedIn) {
  for (std::string bad : std::vector<std::string>{"", "!!!", "AAAA", std::string(5000, 'A')}) {
    absl::StatusOr<WebSession> s = DecodeSession(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_TRUE(absl::IsUnauthenticated(s.status()));
    EXPECT_EQ(s.status().message(), "not signed in: sign in with your lab account");
  }
}

TEST(SessionCookieTest, TokensTooLargeForACookieAreAnError) {
  WebSession s = Sample();
  s.access_token = std::string(4000, 'x');
  EXPECT_TRUE(absl::IsInternal(EncodeSession(s).status()));
}

TEST(SessionCookieTest, CookieAttributes) {
  absl::StatusOr<std::string> header = SessionCookieHeader(Sample(), kNow);
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(absl::StartsWith(*header, "__Host-labkube-session="));
  for (const char* attr : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict",
                           "; Max-Age=43200"}) {
    EXPECT_TRUE(absl::StrContains(*header, attr)) << attr << " in " << *header;
  }
  EXPECT_FALSE(absl::StrContains(*header, "Domain"));
  EXPECT_TRUE(absl::StrContains(ClearCookieHeader(), "Max-Age=0"));
  EXPECT_TRUE(absl::StrContains(ClearCookieHeader(), "__Host-labkube-session=;"));
}

TEST(SessionCookieTest, FindsTheCookieAmongOthers) {
  EXPECT_EQ(FindCookie("a=1; __Host-labkube-session=xyz; b=2", kSessionCookie), "xyz");
  EXPECT_EQ(FindCookie("__Host-labkube-session=xyz", kSessionCookie), "xyz");
  EXPECT_EQ(FindCookie("x__Host-labkube-session=no; a=1", kSessionCookie), "");
  EXPECT_EQ(FindCookie("__Host-labkube-sessionX=no", kSessionCookie), "");
  EXPECT_EQ(FindCookie("", kSessionCookie), "");
}

TEST(SessionCookieTest, RefreshesWithinAMinuteOfExpiryLikeLabctl) {
  WebSession s = Sample();
  EXPECT_FALSE(NeedsRefresh(s, kNow));
  EXPECT_FALSE(NeedsRefresh(s, kNow + absl::Minutes(8)));
  EXPECT_TRUE(NeedsRefresh(s, kNow + absl::Minutes(9) + absl::Seconds(1)));
  EXPECT_TRUE(NeedsRefresh(s, kNow + absl::Hours(1)));
  gw::RefreshResponse r;
  r.set_access_token("new");
  r.mutable_access_token_expiry()->set_seconds(absl::ToUnixSeconds(kNow + absl::Hours(2)));
  ApplyRefresh(r, s);
  EXPECT_EQ(s.access_token, "new");
  EXPECT_FALSE(NeedsRefresh(s, kNow + absl::Hours(1)));
  EXPECT_EQ(s.refresh_token, "refresh-secret");
  EXPECT_EQ(s.member, "alice");
}

TEST(SessionCookieTest, CsrfTokenIsBoundToTheSession) {
  WebSession a = Sample(), b = Sample();
  b.refresh_token = "another";
  EXPECT_EQ(CsrfToken(a), CsrfToken(a));
  EXPECT_NE(CsrfToken(a), CsrfToken(b));
  EXPECT_EQ(CsrfToken(a).size(), 43u);
  EXPECT_EQ(CsrfToken(a).find("refresh-secret"), std::string::npos);
  a.access_token = "refreshed";  // a refresh keeps the token
  EXPECT_EQ(CsrfToken(a), CsrfToken(Sample()));
}

RequestFacts Good(const WebSession& s) {
  return RequestFacts{"POST", "https", "lab:10443", "https://lab:10443", "same-origin",
                      "application/json", CsrfToken(s)};
}

TEST(SessionCookieTest, ChangesFromThePageAreAllowed) {
  WebSession s = Sample();
  EXPECT_TRUE(CheckChange(Good(s), &s).ok());
  RequestFacts old_browser = Good(s);
  old_browser.origin = old_browser.sec_fetch_site = "";
  EXPECT_TRUE(CheckChange(old_browser, &s).ok());
  RequestFacts charset = Good(s);
  charset.content_type = "application/json; charset=utf-8";
  EXPECT_TRUE(CheckChange(charset, &s).ok());
  RequestFacts login = Good(s);
  login.csrf_token = "";
  EXPECT_TRUE(CheckChange(login, nullptr).ok()) << "sign-in has no session yet";
}

TEST(SessionCookieTest, ForgedChangesAreRefusedSayingWhy) {
  WebSession s = Sample();
  struct Case {
    std::function<void(RequestFacts&)> change;
    const char* why;
  };
  std::vector<Case> cases = {
      {[](RequestFacts& f) { f.csrf_token = ""; }, "missing or wrong X-CSRF-Token"},
      {[](RequestFacts& f) { f.csrf_token[0] ^= 1; }, "missing or wrong X-CSRF-Token"},
      {[](RequestFacts& f) { f.csrf_token += "x"; }, "missing or wrong X-CSRF-Token"},
      {[](RequestFacts& f) { f.content_type = "text/plain"; }, "application/json"},
      {[](RequestFacts& f) { f.content_type = "application/x-www-form-urlencoded"; },
       "application/json"},
      {[](RequestFacts& f) { f.sec_fetch_site = "cross-site"; }, "another site"},
      {[](RequestFacts& f) { f.sec_fetch_site = "same-site"; }, "another site"},
      {[](RequestFacts& f) { f.origin = "https://evil.example"; }, "another origin"},
      {[](RequestFacts& f) { f.origin = "http://lab:10443"; }, "another origin"},
      {[](RequestFacts& f) { f.origin = "null"; }, "another origin"},
      {[](RequestFacts& f) { f.method = "GET"; }, "POST"},
  };
  for (const Case& c : cases) {
    RequestFacts f = Good(s);
    c.change(f);
    absl::Status st = CheckChange(f, &s);
    ASSERT_TRUE(absl::IsPermissionDenied(st)) << c.why;
    EXPECT_TRUE(absl::StrContains(st.message(), c.why)) << st.message();
    EXPECT_TRUE(absl::StrContains(st.message(), "reload the page")) << st.message();
  }
  RequestFacts cross_login = Good(s);
  cross_login.origin = "https://evil.example";
  EXPECT_TRUE(absl::IsPermissionDenied(CheckChange(cross_login, nullptr)));
}

}  // namespace
}  // namespace labkube::gateway::web
