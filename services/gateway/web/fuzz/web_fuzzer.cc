// libFuzzer target for what the web page reads from browsers (tools/fuzz.sh, target "web"): the
// Cookie header, the session cookie's value, and a change request's facts (method, origin, host,
// content type, CSRF token). Input: fields separated by '\n':
//   cookie header | method | origin | host | sec-fetch-site | content type | csrf token
// Invariants: nothing crashes; a session cookie either decodes or is refused as not signed in
// (kUnauthenticated); a decoded session encodes and decodes to itself; a change is never
// allowed unless it is a JSON POST carrying the session's own CSRF token.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "services/gateway/web/session_cookie.h"

namespace labkube::gateway::web {
namespace {

[[noreturn]] void Fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "invariant violated: %s\ninput: %.*s\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

bool Same(const WebSession& a, const WebSession& b) {
  return a.member == b.member && a.ns == b.ns && a.access_token == b.access_token &&
         a.refresh_token == b.refresh_token && a.access_expiry == b.access_expiry &&
         a.refresh_expiry == b.refresh_expiry;
}

void Check(std::string_view input) {
  std::string text(input);
  std::vector<std::string> f = absl::StrSplit(text, '\n');
  f.resize(7);
  std::string value = FindCookie(f[0], kSessionCookie);
  if (!value.empty() && !absl::StrContains(f[0], value)) Fail("cookie value not from the header", input);
  absl::StatusOr<WebSession> session = DecodeSession(value.empty() ? f[0] : value);
  if (!session.ok() && session.status().code() != absl::StatusCode::kUnauthenticated) {
    Fail("a bad cookie is not 'not signed in': " + session.status().ToString(), input);
  }
  if (session.ok()) {
    absl::StatusOr<std::string> again = EncodeSession(*session);
    if (again.ok()) {
      absl::StatusOr<WebSession> back = DecodeSession(*again);
      if (!back.ok() || !Same(*back, *session)) Fail("session does not round-trip", input);
    }
  }
  RequestFacts facts{f[1], "https", f[3], f[2], f[4], f[5], f[6]};
  WebSession fixed;
  fixed.refresh_token = "refresh";
  absl::Status change = CheckChange(facts, &fixed);
  if (change.ok() && (facts.method != "POST" || facts.csrf_token != CsrfToken(fixed))) {
    Fail("a change was allowed without POST and the session's CSRF token", input);
  }
  if (change.ok() && !absl::StartsWith(absl::AsciiStrToLower(facts.content_type), "application/json")) {
    Fail("a change was allowed without a JSON body", input);
  }
}

}  // namespace
}  // namespace labkube::gateway::web

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  labkube::gateway::web::Check(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
