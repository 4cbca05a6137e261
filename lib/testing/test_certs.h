// Self-signed certificates for tests of TLS servers and clients, made with the OpenSSL API
// (EC P-256). Each certificate is its own CA (basicConstraints CA:TRUE), so a client can trust
// it directly, and is valid for localhost, 127.0.0.1 and ::1, for server and client auth.
// Test-only; stateless; safe from any thread.
#ifndef LABKUBE_LIB_TESTING_TEST_CERTS_H_
#define LABKUBE_LIB_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace labkube::testing {

struct TestCert {
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM private key (PKCS#8)
  std::string cert_pem;
  std::string key_pem;
};

// Writes `<dir>/<name>.crt` and `<dir>/<name>.key` (replacing existing files atomically by
// rename) for a new key pair with subject CN=`common_name` and serial number `serial`.
absl::StatusOr<TestCert> WriteSelfSignedCert(const std::string& dir, const std::string& name,
                                             const std::string& common_name, long serial);

// $TEST_TMPDIR (or /tmp when unset).
std::string TestTmpDir();

}  // namespace labkube::testing

#endif  // LABKUBE_LIB_TESTING_TEST_CERTS_H_
