// TLS helpers for gRPC servers and clients, from PEM files as Kubernetes mounts them (Secrets
// that are updated in place): credentials built here watch the files through gRPC's
// FileWatcherCertificateProvider and pick up renewed certificates without a restart.
//
// Before handing paths to gRPC, each file is read and parsed here, so a missing, unreadable or
// malformed file (or a key that does not belong to its certificate) is a clear error naming the
// file, instead of a handshake failure later. gRPC's TLS stack negotiates TLS 1.2 or newer.
//
// Free functions, no state; safe from any thread. The returned credentials are shared_ptrs
// that gRPC keeps alive as long as servers or channels use them.
#ifndef LABKUBE_LIB_TLS_H_
#define LABKUBE_LIB_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace labkube {

// How often the file watchers look for changed files.
inline constexpr int kTlsRefreshIntervalSeconds = 10;

// The whole contents of `path`; kNotFound / kPermissionDenied / kInternal naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Server credentials presenting the certificate chain in `cert_file` with `key_file`. With a
// `client_ca_file`, clients must present a certificate signed by one of its CAs (mutual TLS);
// with "" client certificates are not requested.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const std::string& cert_file, const std::string& key_file,
    const std::string& client_ca_file = "",
    int refresh_interval_seconds = kTlsRefreshIntervalSeconds);

// Channel credentials trusting the CAs in `ca_file` ("" = the system's trusted CAs), checking
// that the server's certificate names the target host, and presenting `cert_file`/`key_file`
// as the client certificate when both are given (both "" = none; one without the other is
// kInvalidArgument).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const std::string& ca_file, const std::string& cert_file = "", const std::string& key_file = "",
    int refresh_interval_seconds = kTlsRefreshIntervalSeconds);

// Checks that `cert_file` holds at least one PEM certificate and `key_file` the matching PEM
// private key; errors name the offending file.
absl::Status CheckKeyPairFiles(const std::string& cert_file, const std::string& key_file);
// Checks that `ca_file` holds at least one PEM certificate.
absl::Status CheckCaFile(const std::string& ca_file);

}  // namespace labkube

#endif  // LABKUBE_LIB_TLS_H_
