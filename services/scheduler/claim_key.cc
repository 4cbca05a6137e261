#include "services/scheduler/claim_key.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr int kKeyBytes = 32;

absl::StatusOr<std::string> KeyOf(const rapidjson::Value& secret, const std::string& where) {
  std::string key;
  std::optional<std::string_view> b64 = json::FindString(secret, {"data", kClaimKeyField});
  if (!b64.has_value() || !absl::Base64Unescape(ToAbsl(*b64), &key) || key.size() < kKeyBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("Secret ", where, " has no usable data.", kClaimKeyField, " (", kKeyBytes,
                     " bytes or more, base64); delete it and restart the scheduler to make a new "
                     "one (running guests then lose their slots)"));
  }
  return key;
}

absl::StatusOr<rapidjson::Document> NewKeySecret(std::string_view ns, std::string_view name) {
  unsigned char bytes[kKeyBytes];
  if (RAND_bytes(bytes, kKeyBytes) != 1) {
    return absl::InternalError("no random bytes from OpenSSL for the claim signing key");
  }
  kube::ObjectMeta meta;
  meta.name = std::string(name);
  meta.namespace_ = std::string(ns);
  meta.labels = {{"app.kubernetes.io/part-of", "labkube"}};
  std::string key = absl::Base64Escape(std::string(reinterpret_cast<char*>(bytes), kKeyBytes));
  kube::Builder b;
  return b.Finish(b.Manifest("v1", "Secret", meta,
                             {{"type", b.Str("Opaque")}, {"data", b.Map({{kClaimKeyField, key}})}}));
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateClaimKey(kube::Client& client, std::string_view ns,
                                                 std::string_view name) {
  std::string where = absl::StrCat(ToAbsl(ns), "/", ToAbsl(name));
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<rapidjson::Document> got = client.Get(res::Secrets(), ns, name);
    if (got.ok()) return KeyOf(*got, where);
    if (got.status().code() != absl::StatusCode::kNotFound) {
      return absl::Status(got.status().code(),
                          absl::StrCat("reading the claim signing key Secret ", where, ": ",
                                          got.status().message()));
    }
    absl::StatusOr<rapidjson::Document> secret = NewKeySecret(ns, name);
    if (!secret.ok()) return secret.status();
    absl::StatusOr<rapidjson::Document> made = client.Create(res::Secrets(), ns, *secret);
    if (made.ok()) return KeyOf(*made, where);
    // Another replica made it first: read theirs.
    if (made.status().code() != absl::StatusCode::kAlreadyExists) {
      return absl::Status(made.status().code(),
                          absl::StrCat("creating the claim signing key Secret ", where, ": ",
                                       made.status().message()));
    }
  }
  return absl::UnavailableError(absl::StrCat("the claim signing key Secret ", where,
                                             " appeared and vanished again; retry"));
}

}  // namespace labkube::scheduler
