#include "lib/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/status_macros.h"

namespace labkube {
namespace {

struct Deleter {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter>;

BioPtr MemBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

absl::StatusOr<std::unique_ptr<X509, Deleter>> ParseFirstCert(const std::string& path) {
  LK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BioPtr bio = MemBio(text);
  std::unique_ptr<X509, Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no PEM certificate in the file"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    int err = errno;
    std::string message = absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return text.str();
}

absl::Status CheckCaFile(const std::string& ca_file) { return ParseFirstCert(ca_file).status(); }

absl::Status CheckKeyPairFiles(const std::string& cert_file, const std::string& key_file) {
  LK_ASSIGN_OR_RETURN(auto cert, ParseFirstCert(cert_file));
  LK_ASSIGN_OR_RETURN(std::string key_text, ReadFile(key_file));
  BioPtr bio = MemBio(key_text);
  std::unique_ptr<EVP_PKEY, Deleter> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, ": no unencrypted PEM private key in the file"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, ": the private key does not match the certificate in ", cert_file));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca_file,
    int refresh_interval_seconds) {
  LK_RETURN_IF_ERROR(CheckKeyPairFiles(cert_file, key_file));
  if (!client_ca_file.empty()) LK_RETURN_IF_ERROR(CheckCaFile(client_ca_file));
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      key_file, cert_file, client_ca_file, refresh_interval_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) return absl::InternalError("gRPC refused the TLS server options");
  return credentials;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file,
    int refresh_interval_seconds) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs both a certificate file and a key file");
  }
  if (!ca_file.empty()) LK_RETURN_IF_ERROR(CheckCaFile(ca_file));
  if (!cert_file.empty()) LK_RETURN_IF_ERROR(CheckKeyPairFiles(cert_file, key_file));
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (!ca_file.empty() || !cert_file.empty()) {
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
            key_file, cert_file, ca_file, refresh_interval_seconds));
    if (!ca_file.empty()) options.watch_root_certs();
    if (!cert_file.empty()) options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::experimental::TlsCredentials(options);
  if (credentials == nullptr) return absl::InternalError("gRPC refused the TLS channel options");
  return credentials;
}

}  // namespace labkube
