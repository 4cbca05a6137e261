// The web page's session and its protection, as pure functions (no I/O, time passed in):
//
//   - WebSession: the tokens of one Login (access token + expiry, refresh token + expiry, member)
//     kept by the browser in one cookie, __Host-labkube-session, HttpOnly, Secure,
//     SameSite=Strict, Path=/ (the __Host- prefix makes browsers refuse it without Secure or with
//     a Domain). The value is a base64url-encoded gateway LoginResponse without its kubeconfig:
//     no second format, and nothing the gateway trusts (every call still shows the access token
//     to the gateway's TokenReview; a forged cookie is only a wrong token).
//   - Refresh like labctl: when the access token expires within a minute (NeedsRefresh).
//   - CSRF: every change is a POST with Content-Type application/json (a cross-site form cannot
//     send one without a CORS preflight, which the page never answers), from the same origin
//     when the browser says (Origin, Sec-Fetch-Site), carrying X-CSRF-Token = CsrfToken(session):
//     a hash of the refresh token, which script on other sites cannot read (the cookie is
//     HttpOnly), so the token needs no server-side state and works on every gateway replica.
//
// Free functions and a value type; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_WEB_SESSION_COOKIE_H_
#define LABKUBE_SERVICES_GATEWAY_WEB_SESSION_COOKIE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"

namespace labkube::gateway::web {

namespace gw = ::labkube::gateway::v1alpha1;

inline constexpr char kSessionCookie[] = "__Host-labkube-session";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";
// Refresh when the access token expires within this (labctl's margin).
inline constexpr absl::Duration kRefreshMargin = absl::Minutes(1);
// Browsers keep cookies up to 4096 bytes (name and attributes included).
inline constexpr size_t kMaxCookieValue = 3800;

struct WebSession {
  std::string member;
  std::string ns;
  std::string access_token;
  absl::Time access_expiry = absl::InfinitePast();
  std::string refresh_token;
  absl::Time refresh_expiry = absl::InfinitePast();
};

WebSession FromLogin(const gw::LoginResponse& login);
// The session after a Refresh: new access token and expiries.
void ApplyRefresh(const gw::RefreshResponse& refresh, WebSession& session);

// The cookie value; kInternal when the tokens do not fit in a cookie.
absl::StatusOr<std::string> EncodeSession(const WebSession& session);
// kUnauthenticated "not signed in ..." when `value` is not a session this page wrote.
absl::StatusOr<WebSession> DecodeSession(std::string_view value);

// The value of cookie `name` in a Cookie request header ("" when absent).
std::string FindCookie(std::string_view cookie_header, std::string_view name);
// Set-Cookie header values: the session until its refresh token expires, and its removal.
absl::StatusOr<std::string> SessionCookieHeader(const WebSession& session, absl::Time now);
std::string ClearCookieHeader();

bool NeedsRefresh(const WebSession& session, absl::Time now);
// The CSRF token of a session (base64url, 43 characters).
std::string CsrfToken(const WebSession& session);

// What a change request says about where it comes from.
struct RequestFacts {
  std::string method;
  std::string scheme;  // "https" (or "http" for a plaintext development server)
  std::string host;    // the Host header
  std::string origin;  // "" when absent
  std::string sec_fetch_site;
  std::string content_type;
  std::string csrf_token;  // the X-CSRF-Token header
};

// OK when the request may change something: POST, JSON, same origin, and - with a `session`
// (every call but sign-in) - its CSRF token. kPermissionDenied saying which check failed and
// what to do ("reload the page").
absl::Status CheckChange(const RequestFacts& facts, const WebSession* session);

}  // namespace labkube::gateway::web

#endif  // LABKUBE_SERVICES_GATEWAY_WEB_SESSION_COOKIE_H_
