#include "services/authenticator/token_issuer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;

}  // namespace

TokenIssuer::TokenIssuer(kube::Client& client, TokenAudiences audiences)
    : client_(client), services_(std::move(audiences.services)) {
  if (!audiences.api.empty()) {
    std::vector<std::string> all = std::move(audiences.api);
    all.insert(all.end(), services_.begin(), services_.end());
    audiences_ = std::move(all);
  }
}

std::optional<std::vector<std::string>> TokenIssuer::Audiences() {
  absl::MutexLock lock(&mu_);
  return audiences_;
}

absl::StatusOr<IssuedToken> TokenIssuer::Issue(const std::string& ns,
                                               const std::string& service_account,
                                               absl::Duration ttl, const SessionBinding& binding) {
  int64_t seconds =
      static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(std::max(ttl, kMinTokenTtl))));
  std::optional<std::vector<std::string>> audiences = Audiences();
  absl::StatusOr<rapidjson::Document> reply =
      Request(ns, service_account, seconds, binding, audiences ? &*audiences : nullptr);
  if (reply.ok() && !audiences.has_value()) {
    // The first token of this process: issued for the API server's defaults only. Learn them,
    // then ask again for a token that also names labkube's services.
    Learn(*reply);
    audiences = Audiences();
    if (audiences.has_value()) reply = Request(ns, service_account, seconds, binding, &*audiences);
  }
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

absl::StatusOr<rapidjson::Document> TokenIssuer::Request(
    const std::string& ns, const std::string& sa, int64_t seconds, const SessionBinding& binding,
    const std::vector<std::string>* audiences) {
  rapidjson::Document body = json::NewObject("authentication.k8s.io/v1", "TokenRequest", "", "");
  body.RemoveMember("metadata");
  json::SetInt(body, {"spec", "expirationSeconds"}, seconds);
  if (audiences != nullptr) {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const std::string& a : *audiences)
      list.PushBack(json::String(a, body.GetAllocator()), body.GetAllocator());
    json::SetPath(body, {"spec", "audiences"}, std::move(list), body.GetAllocator());
  }
  if (!binding.name.empty()) {
    json::SetString(body, {"spec", "boundObjectRef", "apiVersion"}, "v1");
    json::SetString(body, {"spec", "boundObjectRef", "kind"}, "Secret");
    json::SetString(body, {"spec", "boundObjectRef", "name"}, binding.name);
    json::SetString(body, {"spec", "boundObjectRef", "uid"}, binding.uid);
  }
  return client_.CreateSubresource(kube::resources::ServiceAccounts(), ns, sa, "token", body);
}

void TokenIssuer::Learn(const rapidjson::Value& reply) {
  std::vector<std::string> all;
  const rapidjson::Value* api = json::Find(reply, {"spec", "audiences"});
  if (api != nullptr && api->IsArray()) {
    for (const rapidjson::Value& a : api->GetArray()) {
      if (a.IsString()) all.emplace_back(json::View(a));
    }
  }
  // An API server that does not say its audiences: tokens stay for the API server only (the
  // gateway then refuses them, and says so).
  if (all.empty()) return;
  all.insert(all.end(), services_.begin(), services_.end());
  absl::MutexLock lock(&mu_);
  if (!audiences_.has_value()) audiences_ = std::move(all);
}

absl::StatusOr<SessionBinding> TokenIssuer::OpenBinding(const std::string& ns,
                                                        const std::string& member) {
  kube::ObjectMeta meta;
  meta.generate_name = kSessionSecretPrefix;
  meta.namespace_ = ns;
  meta.labels = {{contract::kUserLabel, member}, {contract::kManagedByLabel, "labkube"}};
  kube::Builder builder;
  absl::StatusOr<rapidjson::Document> secret =
      builder.Finish(builder.Manifest("v1", "Secret", meta, {{"type", builder.Str("Opaque")}}));
  if (!secret.ok()) return secret.status();
  absl::StatusOr<rapidjson::Document> made = client_.Create(kube::resources::Secrets(), ns, *secret);
  if (!made.ok()) {
    return absl::Status(made.status().code(), absl::StrCat("creating the session Secret in ", ns,
                                                           ": ", made.status().message()));
  }
  SessionBinding b{std::string(json::GetString(*made, {"metadata", "name"})),
                   std::string(json::GetString(*made, {"metadata", "uid"}))};
  if (b.name.empty() || b.uid.empty()) {
    return absl::InternalError("the API server's session Secret has no name or uid");
  }
  return b;
}

absl::Status TokenIssuer::CloseBinding(const std::string& ns, const SessionBinding& binding) {
  if (binding.name.empty()) return absl::OkStatus();
  kube::DeleteOptions o;
  o.precondition_uid = binding.uid;
  absl::Status s = client_.Delete(kube::resources::Secrets(), ns, binding.name, o);
  return s.ok() || absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace labkube::authenticator
