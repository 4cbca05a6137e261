#include "services/gateway/token_reviewer.h"

#include <openssl/sha.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/token_review.h"
#include "lib/names.h"
#include "lib/status_macros.h"

namespace labkube::gateway {

using contract::kAdminLabel;
using contract::kUserLabel;
using names::MemberNamespace;

namespace {

namespace json = kube::json;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

constexpr char kSaPrefix[] = "system:serviceaccount:";

}  // namespace

std::optional<absl::Time> JwtExpiry(std::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(token), '.');
  if (parts.size() != 3) return std::nullopt;
  std::string payload;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload)) return std::nullopt;
  absl::StatusOr<rapidjson::Document> doc = json::Parse(payload);
  if (!doc.ok()) return std::nullopt;
  std::optional<int64_t> exp = json::FindInt(*doc, {"exp"});
  if (!exp.has_value()) return std::nullopt;
  return absl::FromUnixSeconds(*exp);
}

KubeTokenReviewer::KubeTokenReviewer(kube::Client& client, Clock& clock, TokenReviewOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<Caller> KubeTokenReviewer::Review(std::string_view token) {
  const std::string key = Sha256Hex(token);
  std::shared_ptr<Flight> flight;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.expires > clock_.Now()) return it->second.caller;
      cache_.erase(it);
    }
    // A review of this token already under way (a burst after the entry expired): share it.
    if (auto p = pending_.find(key); p != pending_.end()) {
      std::shared_ptr<Flight> shared = p->second;
      mu_.Await(absl::Condition(&shared->done));
      return shared->result;
    }
    flight = std::make_shared<Flight>();
    pending_[key] = flight;
  }
  absl::StatusOr<Caller> result = ReviewAndRemember(key, token);
  absl::MutexLock lock(&mu_);
  flight->result = result;
  flight->done = true;
  pending_.erase(key);
  return result;
}

absl::StatusOr<Caller> KubeTokenReviewer::ReviewAndRemember(const std::string& key,
                                                            std::string_view token) {
  std::optional<absl::Time> exp = JwtExpiry(token);
  if (exp.has_value() && *exp <= clock_.Now()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token expired at ", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", *exp, absl::UTCTimeZone()),
        ": run `labctl login` (labctl refreshes tokens by itself while the "
        "session lasts)"));
  }
  LK_ASSIGN_OR_RETURN(Caller caller, ReviewUncached(token));
  Remember(key, caller, exp);
  return caller;
}

absl::StatusOr<Caller> KubeTokenReviewer::ReviewUncached(std::string_view token) {
  absl::StatusOr<kube::ReviewedToken> review =
      kube::ReviewToken(client_, token, options_.audiences);
  if (!review.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot check the token right now (",
                                               review.status().message(), "); try again shortly"));
  }
  if (!review->authenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        "token rejected", review->error.empty() ? "" : absl::StrCat(" (", review->error, ")"),
        ": run `labctl login`"));
  }
  return MemberOf(review->username);
}

absl::StatusOr<Caller> KubeTokenReviewer::MemberOf(const std::string& username) {
  auto not_member = [&] {
    return absl::PermissionDeniedError(
        absl::StrCat("not allowed: ", username, " is not a labkube member"));
  };
  if (!absl::StartsWith(username, kSaPrefix)) return not_member();
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(username).substr(sizeof(kSaPrefix) - 1), ':');
  if (parts.size() != 2 || parts[0] != MemberNamespace(options_.namespace_prefix, parts[1])) {
    return not_member();
  }
  Caller caller{username, parts[1], parts[0], false};
  absl::StatusOr<rapidjson::Document> sa =
      client_.Get(kube::resources::ServiceAccounts(), caller.ns, caller.member);
  if (absl::IsNotFound(sa.status())) return not_member();
  if (!sa.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read the member's ServiceAccount: ", sa.status().message()));
  }
  if (json::GetString(*sa, {"metadata", "labels", kUserLabel}) != caller.member) {
    return not_member();
  }
  caller.admin = json::GetString(*sa, {"metadata", "labels", kAdminLabel}) == "true";
  return caller;
}

void KubeTokenReviewer::Remember(const std::string& key, const Caller& caller,
                                 std::optional<absl::Time> token_exp) {
  const absl::Time now = clock_.Now();
  absl::Time expires = now + options_.ttl;
  if (token_exp.has_value()) expires = std::min(expires, *token_exp);
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= options_.max_entries) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
    }
    if (cache_.size() >= options_.max_entries) cache_.clear();
  }
  cache_[key] = Entry{caller, expires};
}

size_t KubeTokenReviewer::CacheSize() {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

}  // namespace labkube::gateway
