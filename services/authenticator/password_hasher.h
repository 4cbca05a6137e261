// PasswordHasher: one-way password hashes with libcrypt (libxcrypt): yescrypt ("$y$", the
// default) or bcrypt ("$2b$"), each with a fresh random salt from crypt_gensalt_ra. Verify
// recomputes the hash with the stored setting and compares in constant time. VerifyDummy costs
// the same as a real verification, so an unknown user takes as long as a wrong password.
//
// Hashing is CPU- and (yescrypt) memory-hungry: at most `max_concurrent` hashes run at once;
// further callers wait. Passwords must not contain NUL bytes (crypt takes C strings).
//
// Ownership: owns nothing but its settings. Thread safety: all methods are safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_PASSWORD_HASHER_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_PASSWORD_HASHER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace labkube::authenticator {

struct HashOptions {
  std::string algorithm = "yescrypt";  // "yescrypt" or "bcrypt"
  // libcrypt cost parameter; 0 = the default (yescrypt: libxcrypt's default; bcrypt: 12).
  unsigned long cost = 0;
  int max_concurrent = 2;
};

class PasswordHasher {
 public:
  // kInvalidArgument for an unknown algorithm or a cost libcrypt rejects.
  static absl::StatusOr<std::unique_ptr<PasswordHasher>> Create(const HashOptions& options);

  // A new hash of `password` with a random salt. kInvalidArgument if it contains NUL, or (bcrypt)
  // is longer than 72 bytes.
  absl::StatusOr<std::string> Hash(std::string_view password) ABSL_LOCKS_EXCLUDED(mu_);
  // True if `password` matches `hash` (any supported algorithm); false for malformed hashes.
  bool Verify(std::string_view password, std::string_view hash) ABSL_LOCKS_EXCLUDED(mu_);
  // Spends the time of a verification against a hash of the configured kind; returns false.
  bool VerifyDummy(std::string_view password) ABSL_LOCKS_EXCLUDED(mu_);

  // True if `s` has the form of a supported crypt hash (not a plaintext).
  static bool LooksLikeHash(std::string_view s);

 private:
  PasswordHasher(std::string prefix, unsigned long cost, int max_concurrent);

  absl::StatusOr<std::string> NewSetting() const;
  // crypt_r under the concurrency limit; "" on failure.
  std::string Crypt(std::string_view password, const std::string& setting) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string prefix_;
  const unsigned long cost_;
  std::string dummy_hash_;  // set once in Create

  absl::Mutex mu_;
  int free_slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_PASSWORD_HASHER_H_
