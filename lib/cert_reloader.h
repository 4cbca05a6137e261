// CertReloader: a TLS server certificate and key loaded from PEM files and reloaded when the
// files change on disk (Kubernetes updates mounted Secrets in place, by swapping a symlink), for
// servers that build their own OpenSSL SSL_CTX (HttpServer; gRPC servers use gRPC's own file
// watcher, see tls.h).
//
// InstallOn(ctx) registers an OpenSSL certificate callback (SSL_CTX_set_cert_cb): at the start
// of every handshake it checks the files (stat: mtime, size, inode) if `check_interval` has
// passed since the last check, loads them when they changed, and presents the current pair. A
// change that cannot be loaded (half-written files, key not matching the certificate) keeps the
// previous pair and is retried at the next check.
//
// Ownership: the reloader must outlive every SSL_CTX it is installed on. The clock is borrowed.
// Thread safety: all methods are safe to call from many threads (handshakes run concurrently).
#ifndef LABKUBE_LIB_CERT_RELOADER_H_
#define LABKUBE_LIB_CERT_RELOADER_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"

namespace labkube {

class CertReloader {
 public:
  // The loaded certificate (leaf, then chain) and key; immutable once built.
  struct KeyPair;

  // Loads the files now; errors name the file that is missing or malformed.
  static absl::StatusOr<std::unique_ptr<CertReloader>> Create(
      std::string cert_file, std::string key_file, absl::Duration check_interval = absl::Seconds(5),
      Clock& clock = Clock::Real());

  ~CertReloader();
  CertReloader(const CertReloader&) = delete;
  CertReloader& operator=(const CertReloader&) = delete;

  // Makes every handshake on `ctx` present the current pair (and reload it when due).
  void InstallOn(SSL_CTX* ctx);

  // Checks the files if the interval has passed and reloads them if they changed. Returns the
  // result of the last load attempt (OK when nothing changed).
  absl::Status MaybeReload() ABSL_LOCKS_EXCLUDED(mu_);

  // The leaf certificate currently presented (a new reference; free with X509_free).
  X509* CurrentCertificate() ABSL_LOCKS_EXCLUDED(mu_);
  // How many times the pair was (re)loaded, including the first load.
  int LoadCount() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };

  CertReloader(std::string cert_file, std::string key_file, absl::Duration check_interval,
               Clock& clock);
  static absl::StatusOr<std::shared_ptr<const KeyPair>> Load(const std::string& cert_file,
                                                             const std::string& key_file);
  static FileStamp Stamp(const std::string& path);
  static int CertCallback(SSL* ssl, void* arg);
  std::shared_ptr<const KeyPair> Current() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string cert_file_;
  const std::string key_file_;
  const absl::Duration check_interval_;
  Clock& clock_;

  absl::Mutex mu_;
  std::shared_ptr<const KeyPair> pair_ ABSL_GUARDED_BY(mu_);
  FileStamp cert_stamp_ ABSL_GUARDED_BY(mu_);
  FileStamp key_stamp_ ABSL_GUARDED_BY(mu_);
  absl::Time last_check_ ABSL_GUARDED_BY(mu_);
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  int load_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace labkube

#endif  // LABKUBE_LIB_CERT_RELOADER_H_
