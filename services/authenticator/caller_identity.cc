#include "services/authenticator/caller_identity.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/token_review.h"
#include "lib/names.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {

using contract::kAdminLabel;
using contract::kUserLabel;
using names::MemberNamespace;
using names::MemberOfUser;

namespace {

namespace json = kube::json;

constexpr size_t kMaxTokenBytes = 16 * 1024;

}  // namespace

absl::StatusOr<std::string> TokenReviewVerifier::Verify(std::string_view token) {
  absl::StatusOr<kube::ReviewedToken> review = kube::ReviewToken(client_, token, audiences_);
  if (!review.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot review the caller's token: ", review.status().message()));
  }
  if (!review->authenticated) {
    return absl::UnauthenticatedError(
        absl::StrCat("bearer token rejected by the API server",
                     review->error.empty() ? "" : absl::StrCat(" (", review->error, ")"),
                     ": use a token from `labctl login`"));
  }
  return review->username;
}

CallerIdentity::CallerIdentity(TokenVerifier& verifier, kube::Client& client,
                               std::string namespace_prefix)
    : verifier_(verifier), client_(client), prefix_(std::move(namespace_prefix)) {}

absl::StatusOr<Caller> CallerIdentity::Identify(std::string_view authorization) {
  absl::string_view value = absl::StripAsciiWhitespace(ToAbsl(authorization));
  if (value.empty()) {
    return absl::UnauthenticatedError("missing `authorization: Bearer <token>` metadata");
  }
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be `Bearer <token>`");
  }
  absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return absl::UnauthenticatedError("malformed bearer token");
  }
  Caller caller;
  LK_ASSIGN_OR_RETURN(caller.username, verifier_.Verify(ToStd(token)));
  std::optional<std::string> member = MemberOfUser(prefix_, caller.username);
  if (!member.has_value()) return caller;
  caller.member = *member;
  absl::StatusOr<rapidjson::Document> sa =
      client_.Get(kube::resources::ServiceAccounts(), MemberNamespace(prefix_, *member), *member);
  if (sa.ok()) {
    caller.admin = json::GetString(*sa, {"metadata", "labels", kAdminLabel}) == "true" &&
                   json::GetString(*sa, {"metadata", "labels", kUserLabel}) == *member;
  } else if (sa.status().code() != absl::StatusCode::kNotFound) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the caller's ServiceAccount: ", sa.status().message()));
  }
  return caller;
}

absl::StatusOr<Caller> CallerIdentity::RequireAdmin(std::string_view authorization) {
  LK_ASSIGN_OR_RETURN(Caller caller, Identify(authorization));
  if (!caller.admin) {
    return absl::PermissionDeniedError(
        absl::StrCat("only labkube admins may do this (caller: ",
                     caller.member.empty() ? caller.username : caller.member, ")"));
  }
  return caller;
}

}  // namespace labkube::authenticator
