#include "services/authenticator/token_issuer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;

}  // namespace

TokenIssuer::TokenIssuer(kube::Client& client, std::vector<std::string> audiences)
    : client_(client), audiences_(std::move(audiences)) {}

absl::StatusOr<IssuedToken> TokenIssuer::Issue(const std::string& ns,
                                               const std::string& service_account,
                                               absl::Duration ttl) {
  int64_t seconds =
      static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(std::max(ttl, kMinTokenTtl))));
  rapidjson::Document body = json::NewObject("authentication.k8s.io/v1", "TokenRequest", "", "");
  body.RemoveMember("metadata");
  json::SetInt(body, {"spec", "expirationSeconds"}, seconds);
  if (!audiences_.empty()) {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const std::string& a : audiences_)
      list.PushBack(json::String(a, body.GetAllocator()), body.GetAllocator());
    json::SetPath(body, {"spec", "audiences"}, std::move(list), body.GetAllocator());
  }
  absl::StatusOr<rapidjson::Document> reply = client_.CreateSubresource(
      kube::resources::ServiceAccounts(), ns, service_account, "token", body);
  if (reply.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("ServiceAccount ", ns, "/", service_account, " not found"));
  }
  if (!reply.ok()) return reply.status();
  IssuedToken out;
  out.token = std::string(json::GetString(*reply, {"status", "token"}));
  std::string_view expiry = json::GetString(*reply, {"status", "expirationTimestamp"});
  std::string err;
  if (out.token.empty() ||
      !absl::ParseTime(absl::RFC3339_full, ToAbsl(expiry), &out.expiry, &err)) {
    return absl::InternalError("TokenRequest reply lacks status.token or expirationTimestamp");
  }
  return out;
}

}  // namespace labkube::authenticator
