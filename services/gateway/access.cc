#include "services/gateway/access.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/names.h"

namespace labkube::gateway {

using names::CheckDnsLabel;
using names::MemberNamespace;

namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;

absl::Status NotLoggedIn(std::string_view detail) {
  return absl::UnauthenticatedError(
      absl::StrCat("not logged in (", ToAbsl(detail), "): run `labctl login`"));
}

}  // namespace

absl::StatusOr<Caller> Access::Authenticate(std::string_view authorization) {
  absl::string_view value = absl::StripAsciiWhitespace(ToAbsl(authorization));
  if (value.empty()) return NotLoggedIn("no `authorization: Bearer <token>` metadata");
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
    return NotLoggedIn("the authorization metadata must be `Bearer <token>`");
  }
  absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
  if (token.empty() || token.size() > kMaxTokenBytes) return NotLoggedIn("malformed token");
  return reviewer_.Review(ToStd(token));
}

absl::StatusOr<Target> Access::Resolve(const Caller& caller, std::string_view requested) const {
  if (requested.empty() || requested == caller.member) {
    return Target{caller.member, caller.ns};
  }
  if (absl::Status s = CheckDnsLabel("member", requested); !s.ok()) return s;
  if (!caller.admin) {
    return absl::PermissionDeniedError(
        absl::StrCat("not allowed: only admins may act for another member (you are ", caller.member,
                     ", the request names ", ToAbsl(requested), ")"));
  }
  return Target{std::string(requested), MemberNamespace(prefix_, requested)};
}

}  // namespace labkube::gateway
