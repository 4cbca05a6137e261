#include "lib/cert_reloader.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/status_macros.h"
#include "lib/tls.h"

namespace labkube {

struct CertReloader::KeyPair {
  X509* leaf = nullptr;
  STACK_OF(X509) * chain = nullptr;
  EVP_PKEY* key = nullptr;

  KeyPair() = default;
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  ~KeyPair() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CertReloader::KeyPair>> CertReloader::Load(
    const std::string& cert_file, const std::string& key_file) {
  LK_ASSIGN_OR_RETURN(std::string cert_text, ReadFile(cert_file));
  LK_ASSIGN_OR_RETURN(std::string key_text, ReadFile(key_file));
  auto pair = std::make_shared<KeyPair>();
  BioPtr cert_bio = MemBio(cert_text);
  pair->leaf = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
  if (pair->leaf == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(cert_file, ": no PEM certificate in the file"));
  }
  pair->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(pair->chain, extra);
  }
  ERR_clear_error();  // the end of the file ends the loop with an error
  BioPtr key_bio = MemBio(key_text);
  pair->key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (pair->key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, ": no unencrypted PEM private key in the file"));
  }
  if (X509_check_private_key(pair->leaf, pair->key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, ": the private key does not match the certificate in ", cert_file));
  }
  return std::shared_ptr<const KeyPair>(std::move(pair));
}

CertReloader::FileStamp CertReloader::Stamp(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return FileStamp{};
  return FileStamp{
      .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
      .size = static_cast<int64_t>(st.st_size),
      .inode = static_cast<uint64_t>(st.st_ino)};
}

absl::StatusOr<std::unique_ptr<CertReloader>> CertReloader::Create(std::string cert_file,
                                                                   std::string key_file,
                                                                   absl::Duration check_interval,
                                                                   Clock& clock) {
  std::unique_ptr<CertReloader> reloader(
      new CertReloader(std::move(cert_file), std::move(key_file), check_interval, clock));
  absl::MutexLock lock(&reloader->mu_);
  reloader->cert_stamp_ = Stamp(reloader->cert_file_);
  reloader->key_stamp_ = Stamp(reloader->key_file_);
  LK_ASSIGN_OR_RETURN(reloader->pair_, Load(reloader->cert_file_, reloader->key_file_));
  reloader->load_count_ = 1;
  reloader->last_check_ = clock.Now();
  return reloader;
}

CertReloader::CertReloader(std::string cert_file, std::string key_file,
                           absl::Duration check_interval, Clock& clock)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      check_interval_(check_interval),
      clock_(clock) {}

CertReloader::~CertReloader() = default;

absl::Status CertReloader::MaybeReload() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  if (now - last_check_ < check_interval_) return last_status_;
  last_check_ = now;
  FileStamp cert_stamp = Stamp(cert_file_);
  FileStamp key_stamp = Stamp(key_file_);
  if (cert_stamp == cert_stamp_ && key_stamp == key_stamp_) return last_status_;
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair = Load(cert_file_, key_file_);
  last_status_ = pair.status();
  if (!pair.ok()) return last_status_;  // keep the old pair; retry at the next check
  pair_ = *std::move(pair);
  cert_stamp_ = cert_stamp;
  key_stamp_ = key_stamp;
  ++load_count_;
  return last_status_;
}

std::shared_ptr<const CertReloader::KeyPair> CertReloader::Current() {
  absl::MutexLock lock(&mu_);
  return pair_;
}

X509* CertReloader::CurrentCertificate() {
  std::shared_ptr<const KeyPair> pair = Current();
  X509_up_ref(pair->leaf);
  return pair->leaf;
}

int CertReloader::LoadCount() {
  absl::MutexLock lock(&mu_);
  return load_count_;
}

int CertReloader::CertCallback(SSL* ssl, void* arg) {
  auto* self = static_cast<CertReloader*>(arg);
  self->MaybeReload().IgnoreError();  // a failed reload keeps serving the previous pair
  std::shared_ptr<const KeyPair> pair = self->Current();
  // SSL_use_cert_and_key takes its own references; `pair` may be replaced afterwards.
  return SSL_use_cert_and_key(ssl, pair->leaf, pair->key, pair->chain, /*override=*/1) == 1 ? 1 : 0;
}

void CertReloader::InstallOn(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &CertCallback, this); }

}  // namespace labkube
