#include "services/gateway/web/session_cookie.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/kube/absl_compat.h"

namespace labkube::gateway::web {
namespace {

constexpr char kNotSignedIn[] = "not signed in: sign in with your lab account";

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

absl::Status Refused(std::string_view why) {
  return absl::PermissionDeniedError(
      absl::StrCat("request refused: ", ToAbsl(why), ": reload the page and try again"));
}

}  // namespace

WebSession FromLogin(const gw::LoginResponse& login) {
  WebSession s;
  s.member = login.member();
  s.ns = login.namespace_();
  s.access_token = login.access_token();
  s.access_expiry = FromTimestamp(login.access_token_expiry());
  s.refresh_token = login.refresh_token();
  s.refresh_expiry = FromTimestamp(login.refresh_token_expiry());
  return s;
}

void ApplyRefresh(const gw::RefreshResponse& refresh, WebSession& session) {
  session.access_token = refresh.access_token();
  session.access_expiry = FromTimestamp(refresh.access_token_expiry());
  if (refresh.has_refresh_token_expiry()) {
    session.refresh_expiry = FromTimestamp(refresh.refresh_token_expiry());
  }
  if (!refresh.member().empty()) session.member = refresh.member();
  if (!refresh.namespace_().empty()) session.ns = refresh.namespace_();
}

absl::StatusOr<std::string> EncodeSession(const WebSession& session) {
  gw::LoginResponse m;
  m.set_member(session.member);
  m.set_namespace_(session.ns);
  m.set_access_token(session.access_token);
  ToTimestamp(session.access_expiry, m.mutable_access_token_expiry());
  m.set_refresh_token(session.refresh_token);
  ToTimestamp(session.refresh_expiry, m.mutable_refresh_token_expiry());
  std::string bytes;
  m.SerializeToString(&bytes);
  std::string value = absl::WebSafeBase64Escape(bytes);
  if (value.size() > kMaxCookieValue) {
    return absl::InternalError(absl::StrCat("the session's tokens (", value.size(),
                                            " bytes) do not fit in a browser cookie"));
  }
  return value;
}

absl::StatusOr<WebSession> DecodeSession(std::string_view value) {
  std::string bytes;
  gw::LoginResponse m;
  if (value.empty() || value.size() > kMaxCookieValue ||
      !absl::WebSafeBase64Unescape(ToAbsl(value), &bytes) || !m.ParseFromString(bytes) ||
      m.access_token().empty() || m.refresh_token().empty() || m.member().empty()) {
    return absl::UnauthenticatedError(kNotSignedIn);
  }
  return FromLogin(m);
}

std::string FindCookie(std::string_view cookie_header, std::string_view name) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(cookie_header), ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, ToAbsl(name)) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

absl::StatusOr<std::string> SessionCookieHeader(const WebSession& session, absl::Time now) {
  absl::StatusOr<std::string> value = EncodeSession(session);
  if (!value.ok()) return value.status();
  int64_t max_age = std::max<int64_t>(0, absl::ToInt64Seconds(session.refresh_expiry - now));
  return absl::StrCat(kSessionCookie, "=", *value, "; Path=/; Max-Age=", max_age,
                      "; Secure; HttpOnly; SameSite=Strict");
}

std::string ClearCookieHeader() {
  return absl::StrCat(kSessionCookie, "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

bool NeedsRefresh(const WebSession& session, absl::Time now) {
  return session.access_expiry - now < kRefreshMargin;
}

std::string CsrfToken(const WebSession& session) {
  std::string input = absl::StrCat("labkube-web-csrf:", session.refresh_token);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::Status CheckChange(const RequestFacts& facts, const WebSession* session) {
  if (facts.method != "POST") return Refused("changes are POST requests");
  std::string type = absl::AsciiStrToLower(ToAbsl(facts.content_type));
  if (!absl::StartsWith(type, "application/json")) {
    return Refused("the body must be application/json");
  }
  if (!facts.sec_fetch_site.empty() && facts.sec_fetch_site != "same-origin") {
    return Refused(absl::StrCat("sent from another site (Sec-Fetch-Site: ",
                                ToAbsl(facts.sec_fetch_site), ")"));
  }
  if (!facts.origin.empty() && facts.origin != absl::StrCat(facts.scheme, "://", facts.host)) {
    return Refused(absl::StrCat("sent from another origin (", ToAbsl(facts.origin), ")"));
  }
  if (session == nullptr) return absl::OkStatus();
  std::string want = CsrfToken(*session);
  if (facts.csrf_token.size() != want.size() ||
      CRYPTO_memcmp(facts.csrf_token.data(), want.data(), want.size()) != 0) {
    return Refused(absl::StrCat("missing or wrong ", kCsrfHeader, " header"));
  }
  return absl::OkStatus();
}

}  // namespace labkube::gateway::web
