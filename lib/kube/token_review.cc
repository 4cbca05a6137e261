#include "lib/kube/token_review.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::kube {

absl::StatusOr<ReviewedToken> ReviewToken(Client& client, std::string_view token,
                                          const std::vector<std::string>& audiences) {
  rapidjson::Document review = json::NewObject("authentication.k8s.io/v1", "TokenReview", "", "");
  review.RemoveMember("metadata");
  json::SetString(review, {"spec", "token"}, token);
  if (!audiences.empty()) {
    rapidjson::Value list(rapidjson::kArrayType);
    for (const std::string& a : audiences) {
      list.PushBack(json::String(a, review.GetAllocator()), review.GetAllocator());
    }
    json::SetPath(review, {"spec", "audiences"}, std::move(list), review.GetAllocator());
  }
  absl::StatusOr<rapidjson::Document> reply = client.Create(resources::TokenReviews(), "", review);
  if (!reply.ok()) {
    return absl::UnavailableError(
        absl::StrCat("TokenReview failed: ", reply.status().message()));
  }
  ReviewedToken out;
  if (!json::GetBool(*reply, {"status", "authenticated"})) {
    out.error = std::string(json::GetString(*reply, {"status", "error"}));
    return out;
  }
  if (!audiences.empty()) {
    bool match = false;
    const rapidjson::Value* granted = json::Find(*reply, {"status", "audiences"});
    if (granted != nullptr && granted->IsArray()) {
      for (const rapidjson::Value& g : granted->GetArray()) {
        if (!g.IsString()) continue;
        match |= std::find(audiences.begin(), audiences.end(), json::View(g)) != audiences.end();
      }
    }
    if (!match) {
      out.error = absl::StrCat("the token is not for audience ", absl::StrJoin(audiences, ", "));
      return out;
    }
  }
  out.authenticated = true;
  out.username = std::string(json::GetString(*reply, {"status", "user", "username"}));
  return out;
}

}  // namespace labkube::kube
