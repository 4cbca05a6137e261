// Makes a genuinely expired ServiceAccount token for the end-to-end tests: a copy of a real
// token with iat/nbf/exp moved into the past, re-signed (RS256) with the local control plane's
// service-account signing key ($LABKUBE_STATE/pki/sa.key, written by tests/cluster/cluster.sh).
// The API server then rejects it for the one reason under test: it has expired. (TokenRequest
// cannot issue tokens shorter than 10 minutes, so waiting for a real one is not an option.)
// Test-only; thread-safe.
#ifndef LABKUBE_TESTS_E2E_EXPIRED_TOKEN_H_
#define LABKUBE_TESTS_E2E_EXPIRED_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::e2e {

// `token`'s header and claims with exp = `expired_at`, iat = nbf = `expired_at` - 1 h, signed
// with the PEM private key in `key_file`.
absl::StatusOr<std::string> ExpiredCopy(const std::string& token, const std::string& key_file,
                                        absl::Time expired_at);

}  // namespace labkube::e2e

#endif  // LABKUBE_TESTS_E2E_EXPIRED_TOKEN_H_
