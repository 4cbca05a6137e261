#include "services/scheduler/claim_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/kube/absl_compat.h"

namespace labkube::scheduler {
namespace {

constexpr size_t kMinKeyBytes = 32;
constexpr char kVersion[] = "v1";

}  // namespace

absl::StatusOr<ClaimSigner> ClaimSigner::Create(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the claim signing key has ", key.size(),
                                                   " bytes; at least ", kMinKeyBytes,
                                                   " are needed"));
  }
  return ClaimSigner(std::move(key));
}

// Fields are length-prefixed so no two different tokens give the same text.
std::string ClaimSigner::Mac(const ClaimToken& t) const {
  std::string text = kVersion;
  for (const std::string* f : {&t.id, &t.ns, &t.who, &t.group, &t.type, &t.node}) {
    absl::StrAppend(&text, "|", f->size(), ":", *f);
  }
  absl::StrAppend(&text, "|", absl::ToUnixSeconds(t.issued));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), len));
}

std::string ClaimSigner::Sign(const ClaimToken& token) const {
  return absl::StrCat(kVersion, ".", absl::ToUnixSeconds(token.issued), ".", Mac(token));
}

bool ClaimSigner::Verify(ClaimToken token, std::string_view signature, absl::Time* issued) const {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(signature), '.');
  int64_t seconds = 0;
  if (parts.size() != 3 || parts[0] != kVersion || !absl::SimpleAtoi(parts[1], &seconds)) {
    return false;
  }
  token.issued = absl::FromUnixSeconds(seconds);
  std::string want = Mac(token);
  if (want.size() != parts[2].size() ||
      CRYPTO_memcmp(want.data(), parts[2].data(), want.size()) != 0) {
    return false;
  }
  if (issued != nullptr) *issued = token.issued;
  return true;
}

}  // namespace labkube::scheduler
