#include "lib/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"

namespace labkube::pki {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

Bio ReadBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Cert ParseCert(const std::string& pem) {
  Bio bio = ReadBio(pem);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key ParseKey(const std::string& pem) {
  Bio bio = ReadBio(pem);
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len);
}

absl::StatusOr<KeyPair> Encode(X509* cert, EVP_PKEY* key) {
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("cannot encode the certificate as PEM");
  }
  return KeyPair{BioText(cert_bio.get()), BioText(key_bio.get())};
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

absl::Time AsnTime(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

// A certificate for `key` named `common_name`, valid over [not_before, not_after], with a
// random serial; the issuer name is set by the caller.
absl::StatusOr<Cert> NewCert(EVP_PKEY* key, const std::string& common_name, absl::Time not_before,
                             absl::Time not_after) {
  if (common_name.empty() || common_name.size() > 64) {
    return absl::InvalidArgumentError("a certificate's common name must have 1 to 64 characters");
  }
  if (not_after <= not_before) {
    return absl::InvalidArgumentError("a certificate must end after it begins");
  }
  Cert cert(X509_new());
  std::unique_ptr<BIGNUM, Free> serial(BN_new());
  if (cert == nullptr || serial == nullptr || BN_rand(serial.get(), 127, 0, 0) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return absl::InternalError("cannot make a certificate serial number");
  }
  X509_set_version(cert.get(), 2);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after));
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

// A DNS name as certificates carry it: labels of [a-z0-9-] (and a leading "*." wildcard).
bool ValidDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::string rest = name.rfind("*.", 0) == 0 ? name.substr(2) : name;
  size_t label = 0;
  for (char c : rest) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(absl::ascii_isalnum(c) || c == '-') || ++label > 63) return false;
  }
  return label > 0;
}

// The subjectAltName extension, built name by name (never from a config string, so a name
// cannot smuggle in another).
absl::Status AddAltNames(X509* cert, const CertSpec& spec) {
  std::unique_ptr<GENERAL_NAMES, Free> names(sk_GENERAL_NAME_new_null());
  for (const std::string& d : spec.dns_names) {
    if (!ValidDnsName(d)) {
      return absl::InvalidArgumentError(absl::StrCat("not a DNS name for a certificate: \"", d, "\""));
    }
    GENERAL_NAME* n = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, d.data(), static_cast<int>(d.size()));
    GENERAL_NAME_set0_value(n, GEN_DNS, s);
    sk_GENERAL_NAME_push(names.get(), n);
  }
  for (const std::string& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* a = a2i_IPADDRESS(ip.c_str());
    if (a == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", ip, "\""));
    }
    GENERAL_NAME* n = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(n, GEN_IPADD, a);
    sk_GENERAL_NAME_push(names.get(), n);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return absl::InternalError("cannot add the subjectAltName extension");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KeyPair> NewCa(const std::string& common_name, absl::Time not_before,
                              absl::Time not_after) {
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("cannot generate an EC P-256 key");
  absl::StatusOr<Cert> cert = NewCert(key.get(), common_name, not_before, not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  bool ok = AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
            AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            AddExtension(c, c, NID_subject_key_identifier, "hash");
  if (!ok) return absl::InternalError("cannot add the CA's extensions");
  if (X509_sign(c, key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the CA certificate");
  }
  return Encode(c, key.get());
}

absl::StatusOr<KeyPair> Issue(const KeyPair& ca, const CertSpec& spec) {
  Cert ca_cert = ParseCert(ca.cert_pem);
  Key ca_key = ParseKey(ca.key_pem);
  if (ca_cert == nullptr || ca_key == nullptr || X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    return absl::InvalidArgumentError("the CA's certificate or key does not parse, or they do not match");
  }
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) {
    return absl::InvalidArgumentError("a service certificate needs a DNS name or an IP address");
  }
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("cannot generate an EC P-256 key");
  absl::StatusOr<Cert> cert = NewCert(key.get(), spec.common_name, spec.not_before, spec.not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get()));
  bool ok = AddExtension(c, ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            AddExtension(c, ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
            AddExtension(c, ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
            AddExtension(c, ca_cert.get(), NID_subject_key_identifier, "hash") &&
            AddExtension(c, ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!ok) return absl::InternalError("cannot add the certificate's extensions");
  if (absl::Status s = AddAltNames(c, spec); !s.ok()) return s;
  if (X509_sign(c, ca_key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the certificate");
  }
  return Encode(c, key.get());
}

absl::StatusOr<CertInfo> Inspect(const std::string& cert_pem) {
  Cert cert = ParseCert(cert_pem);
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  CertInfo info;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn,
                                sizeof(cn)) > 0) {
    info.common_name = cn;
  }
  info.not_before = AsnTime(X509_get0_notBefore(cert.get()));
  info.not_after = AsnTime(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) > 0;
  std::unique_ptr<GENERAL_NAMES, Free> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {0};
      int len = ASN1_STRING_length(ip);
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof(text))) {
        info.ip_addresses.emplace_back(text);
      }
      continue;
    }
    if (n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->d.dNSName;
    info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                ASN1_STRING_length(s));
  }
  return info;
}

bool KeyMatches(const KeyPair& pair) {
  Cert cert = ParseCert(pair.cert_pem);
  Key key = ParseKey(pair.key_pem);
  return cert != nullptr && key != nullptr && X509_check_private_key(cert.get(), key.get()) == 1;
}

bool SignedBy(const std::string& cert_pem, const std::string& ca_cert_pem) {
  Cert cert = ParseCert(cert_pem);
  Cert ca = ParseCert(ca_cert_pem);
  if (cert == nullptr || ca == nullptr) return false;
  EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
  return ca_key != nullptr && X509_verify(cert.get(), ca_key) == 1 &&
         X509_check_issued(ca.get(), cert.get()) == X509_V_OK;
}

std::vector<std::string> SplitBundle(const std::string& bundle_pem) {
  std::vector<std::string> out;
  Bio bio = ReadBio(bundle_pem);
  while (true) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    Bio one(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_X509(one.get(), cert.get()) == 1) out.push_back(BioText(one.get()));
  }
  return out;
}

}  // namespace labkube::pki
