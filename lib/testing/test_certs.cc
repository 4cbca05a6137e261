#include "lib/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace labkube::testing {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len);
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<X509, Deleter>> MakeCert(EVP_PKEY* key,
                                                        const std::string& common_name,
                                                        long serial) {
  std::unique_ptr<X509, Deleter> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), subject);
  bool ok = AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
            AddExtension(cert.get(), NID_key_usage,
                         "critical,digitalSignature,keyEncipherment,keyCertSign") &&
            AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
            AddExtension(cert.get(), NID_subject_key_identifier, "hash") &&
            AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  if (!ok) return absl::InternalError("cannot add certificate extensions");
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign certificate");
  }
  return cert;
}

}  // namespace

absl::StatusOr<TestCert> WriteSelfSignedCert(const std::string& dir, const std::string& name,
                                             const std::string& common_name, long serial) {
  std::unique_ptr<EVP_PKEY, Deleter> key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("cannot generate an EC key");
  absl::StatusOr<std::unique_ptr<X509, Deleter>> cert = MakeCert(key.get(), common_name, serial);
  if (!cert.ok()) return cert.status();

  TestCert out;
  std::unique_ptr<BIO, Deleter> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, Deleter> key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert->get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return absl::InternalError("cannot encode PEM");
  }
  out.cert_pem = BioText(cert_bio.get());
  out.key_pem = BioText(key_bio.get());
  out.cert_file = absl::StrCat(dir, "/", name, ".crt");
  out.key_file = absl::StrCat(dir, "/", name, ".key");
  if (absl::Status s = WriteAtomically(out.key_file, out.key_pem); !s.ok()) return s;
  if (absl::Status s = WriteAtomically(out.cert_file, out.cert_pem); !s.ok()) return s;
  return out;
}

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

}  // namespace labkube::testing
