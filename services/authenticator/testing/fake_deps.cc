#include "services/authenticator/testing/fake_deps.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::authenticator::testing {

namespace json = kube::json;

FakeTokenApi::FakeTokenApi(kube::testing::FakeClient& client, Clock& clock)
    : client_(client), clock_(clock) {
  client_.SetSubresourceHandler(
      [this](const kube::Resource& r, std::string_view ns_view, std::string_view name_view,
             std::string_view sub,
             const rapidjson::Value& body) -> absl::StatusOr<rapidjson::Document> {
        std::string ns(ns_view), name(name_view);
        if (r.plural != "serviceaccounts" || sub != "token") {
          return absl::UnimplementedError(std::string(sub));
        }
        if (!client_.Get(r, ns, name).ok()) return absl::NotFoundError("serviceaccount not found");
        int64_t seconds = json::GetInt(body, {"spec", "expirationSeconds"}, 3600);
        if (seconds < 600) return absl::InvalidArgumentError("expirationSeconds below 600");
        Issued issued{ns, name, absl::StrCat("system:serviceaccount:", ns, ":", name),
                      clock_.Now() + absl::Seconds(seconds)};
        std::string token;
        {
          absl::MutexLock lock(&mu_);
          token = absl::StrCat("sa-token-", ns, "-", name, "-", ++counter_);
          tokens_[token] = issued;
        }
        rapidjson::Document reply(rapidjson::kObjectType);
        json::SetString(reply, {"status", "token"}, token);
        json::SetString(reply, {"status", "expirationTimestamp"},
                        absl::FormatTime(absl::RFC3339_sec, issued.expiry, absl::UTCTimeZone()));
        return reply;
      });
}

absl::StatusOr<std::string> FakeTokenApi::Verify(std::string_view token) {
  Issued issued;
  {
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return absl::UnauthenticatedError("unknown token");
    issued = it->second;
  }
  if (issued.ns.empty()) return issued.username;  // AddToken
  if (clock_.Now() >= issued.expiry) return absl::UnauthenticatedError("token expired");
  if (!client_.Get(kube::resources::ServiceAccounts(), issued.ns, issued.name).ok()) {
    return absl::UnauthenticatedError("service account deleted");
  }
  return issued.username;
}

void FakeTokenApi::AddToken(const std::string& token, const std::string& username) {
  absl::MutexLock lock(&mu_);
  tokens_[token] = Issued{"", "", username, absl::InfiniteFuture()};
}

int FakeTokenApi::issued() {
  absl::MutexLock lock(&mu_);
  return counter_;
}

}  // namespace labkube::authenticator::testing
