#include "services/authenticator/password_hasher.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {
namespace {

constexpr unsigned long kDefaultBcryptCost = 12;
constexpr size_t kBcryptMaxBytes = 72;  // bcrypt ignores the rest

struct CryptDataDeleter {
  void operator()(crypt_data* d) const {
    OPENSSL_cleanse(d, sizeof(*d));
    std::free(d);
  }
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PasswordHasher>> PasswordHasher::Create(const HashOptions& options) {
  std::string prefix;
  unsigned long cost = options.cost;
  if (options.algorithm == "yescrypt") {
    prefix = "$y$";
  } else if (options.algorithm == "bcrypt") {
    prefix = "$2b$";
    if (cost == 0) cost = kDefaultBcryptCost;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("hash algorithm must be yescrypt or bcrypt, not \"", options.algorithm, "\""));
  }
  if (options.max_concurrent < 1) {
    return absl::InvalidArgumentError("hash max_concurrent must be at least 1");
  }
  std::unique_ptr<PasswordHasher> h(new PasswordHasher(prefix, cost, options.max_concurrent));
  unsigned char random[18];
  if (RAND_bytes(random, sizeof(random)) != 1) return absl::InternalError("RAND_bytes failed");
  LK_ASSIGN_OR_RETURN(
      h->dummy_hash_,
      h->Hash(absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(random), 18))));
  return h;
}

PasswordHasher::PasswordHasher(std::string prefix, unsigned long cost, int max_concurrent)
    : prefix_(std::move(prefix)), cost_(cost), free_slots_(max_concurrent) {}

absl::StatusOr<std::string> PasswordHasher::NewSetting() const {
  // rbytes = NULL: libcrypt takes the salt from the kernel's random source.
  char* setting = crypt_gensalt_ra(prefix_.c_str(), cost_, nullptr, 0);
  if (setting == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("libcrypt rejected hash setting ", prefix_, " with cost ", cost_));
  }
  std::string out(setting);
  std::free(setting);
  return out;
}

std::string PasswordHasher::Crypt(std::string_view password, const std::string& setting) {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* slots) { return *slots > 0; }, &free_slots_));
    --free_slots_;
  }
  std::unique_ptr<crypt_data, CryptDataDeleter> data(
      static_cast<crypt_data*>(std::calloc(1, sizeof(crypt_data))));
  std::string phrase(password);
  const char* out = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  std::string result = (out == nullptr || out[0] == '*') ? "" : std::string(out);
  OPENSSL_cleanse(phrase.data(), phrase.size());
  absl::MutexLock lock(&mu_);
  ++free_slots_;
  return result;
}

absl::StatusOr<std::string> PasswordHasher::Hash(std::string_view password) {
  if (password.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("password must not contain NUL bytes");
  }
  if (prefix_ == "$2b$" && password.size() > kBcryptMaxBytes) {
    return absl::InvalidArgumentError("password is longer than 72 bytes, bcrypt's limit");
  }
  LK_ASSIGN_OR_RETURN(std::string setting, NewSetting());
  std::string hash = Crypt(password, setting);
  if (hash.empty()) return absl::InternalError("crypt_r failed to hash the password");
  return hash;
}

bool PasswordHasher::Verify(std::string_view password, std::string_view hash) {
  if (!LooksLikeHash(hash) || password.find('\0') != std::string_view::npos) {
    VerifyDummy(password);
    return false;
  }
  std::string computed = Crypt(password, std::string(hash));
  return !computed.empty() && computed.size() == hash.size() &&
         CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

bool PasswordHasher::VerifyDummy(std::string_view password) {
  std::string p(password);
  for (char& c : p) {
    if (c == '\0') c = '?';
  }
  Crypt(p, dummy_hash_);
  return false;
}

bool PasswordHasher::LooksLikeHash(std::string_view s) {
  if (s.size() < 20) return false;
  return StartsWith(s, "$y$") || StartsWith(s, "$2b$") || StartsWith(s, "$2a$") ||
         StartsWith(s, "$2y$");
}

}  // namespace labkube::authenticator
