#include "tests/e2e/expired_token.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/kube/json.h"

namespace labkube::e2e {
namespace {

namespace json = kube::json;

absl::StatusOr<std::string> Sign(const std::string& input, const std::string& key_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(key_file.c_str(), "r"), std::fclose);
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", key_file));
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (key == nullptr) return absl::InvalidArgumentError(absl::StrCat("no private key in ", key_file));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  sig.resize(size);
  return sig;
}

}  // namespace

absl::StatusOr<std::string> ExpiredCopy(const std::string& token, const std::string& key_file,
                                        absl::Time expired_at) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string payload;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &payload)) {
    return absl::InvalidArgumentError("not a JWT");
  }
  auto claims = json::Parse(payload);
  if (!claims.ok()) return claims.status();
  int64_t exp = absl::ToUnixSeconds(expired_at);
  for (auto [name, value] : {std::pair{"exp", exp}, {"iat", exp - 3600}, {"nbf", exp - 3600}}) {
    claims->RemoveMember(name);
    claims->AddMember(rapidjson::Value(name, claims->GetAllocator()), rapidjson::Value(value),
                      claims->GetAllocator());
  }
  std::string signing_input =
      absl::StrCat(parts[0], ".", absl::WebSafeBase64Escape(json::ToString(*claims)));
  auto sig = Sign(signing_input, key_file);
  if (!sig.ok()) return sig.status();
  return absl::StrCat(signing_input, ".", absl::WebSafeBase64Escape(*sig));
}

}  // namespace labkube::e2e
