// A small certificate authority for labkube's own TLS: a CA key pair, certificates it issues to
// labkube's services (server and client auth, DNS names, the common name as the mutual-TLS
// identity), and the checks a renewal needs (expiry, issuer, names, key match). EC P-256 keys,
// SHA-256 signatures, random 128-bit serials; everything PEM in and out. Built on OpenSSL's
// X.509 API (Debian's libssl3) because no packaged library does less: cert-manager and Kueue's
// cert-controller are Go.
//
// Stateless functions; safe from any thread.
#ifndef LABKUBE_LIB_PKI_H_
#define LABKUBE_LIB_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::pki {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8
};

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  absl::Time not_before;  // backdated by the caller for clock skew if it wants
  absl::Time not_after;
};

// A self-signed CA (basicConstraints CA:TRUE, pathlen 0; keyCertSign, cRLSign).
absl::StatusOr<KeyPair> NewCa(const std::string& common_name, absl::Time not_before,
                              absl::Time not_after);

// A leaf certificate signed by `ca` (serverAuth + clientAuth; DNS and IP subjectAltNames).
// kInvalidArgument when `ca` does not parse or its key does not match its certificate.
absl::StatusOr<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec);

struct CertInfo {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // as inet_ntop writes them
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
};

// The first certificate in `cert_pem`. kInvalidArgument when it is not a PEM certificate.
absl::StatusOr<CertInfo> Inspect(const std::string& cert_pem);

// Whether `pair`'s key belongs to its certificate.
bool KeyMatches(const KeyPair& pair);

// Whether the first certificate in `cert_pem` is signed by the CA certificate `ca_cert_pem`.
bool SignedBy(const std::string& cert_pem, const std::string& ca_cert_pem);

// The certificates in a PEM bundle, each as its own PEM block (unparseable blocks are dropped).
std::vector<std::string> SplitBundle(const std::string& bundle_pem);

}  // namespace labkube::pki

#endif  // LABKUBE_LIB_PKI_H_
