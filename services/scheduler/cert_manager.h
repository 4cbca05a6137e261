// CertManager: labkube makes and renews its own certificates, in the cluster (the idea of
// Kueue's built-in certificate management, written here in C++ over lib/pki.h).
//
// Each pass (Reconcile) makes sure that:
//   - Secret <ca_secret> holds a CA (ca.crt, ca.key) with more than a third of its life left;
//     otherwise a new CA is made (the old CA certificate stays trusted while it is valid);
//   - each service's Secret (type kubernetes.io/tls: tls.crt, tls.key, ca.crt) holds a
//     certificate of that CA with the service's common name (its mutual-TLS identity) and DNS
//     names and more than a third of its life left; otherwise a new one is issued;
//   - ConfigMap <ca_configmap> (ca.crt) and every webhook's clientConfig.caBundle of the
//     MutatingWebhookConfiguration <webhook_configuration> hold the trust bundle: the current CA
//     and any earlier CA certificate still valid, so a rotation never breaks a running peer.
// A deleted or damaged object is made again on the next pass. Races with another replica are
// settled by the API server (AlreadyExists, Conflict): the loser reads the winner's object or
// retries on the next pass. Only what is missing or wrong is written, so a pass over a healthy
// installation makes reads only.
//
// WriteFiles puts one service's certificate into a directory as tls.crt, tls.key and ca.crt
// (atomically, only when they changed), for a process that serves from files (the scheduler
// itself: it cannot mount a Secret it has yet to make).
//
// Borrows the client and clock. Not thread-safe: one owner calls it (the scheduler's
// certificate loop).
#ifndef LABKUBE_SERVICES_SCHEDULER_CERT_MANAGER_H_
#define LABKUBE_SERVICES_SCHEDULER_CERT_MANAGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/pki.h"
#include "rapidjson/document.h"

namespace labkube::scheduler {

struct ServiceCertificate {
  std::string secret;       // e.g. labkube-injector-tls
  std::string common_name;  // e.g. labkube-injector
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

// The scheduler's own certificate Secret (the first of DefaultServiceCertificates).
inline constexpr char kSchedulerCertificateSecret[] = "labkube-scheduler-tls";

// The four services' certificates in `ns`: labkube-<svc>-tls, CN labkube-<svc>, DNS names
// labkube-<svc>, .<ns>, .<ns>.svc and .<ns>.svc.cluster.local.
// `gateway_names`: more names of the gateway, as members reach it (a public DNS name, a node's
// address for a NodePort, localhost for a port-forward); entries that parse as IP addresses
// become IP subjectAltNames.
std::vector<ServiceCertificate> DefaultServiceCertificates(
    const std::string& ns, const std::vector<std::string>& gateway_names = {});

struct CertManagerOptions {
  std::string ns = "labkube-system";
  std::string ca_secret = "labkube-ca";
  std::string ca_configmap = "labkube-ca";
  std::string webhook_configuration = "labkube-injector";
  std::vector<ServiceCertificate> services = DefaultServiceCertificates("labkube-system");
  absl::Duration ca_validity = absl::Hours(24 * 365 * 10);
  absl::Duration cert_validity = absl::Hours(24 * 90);
};

class CertManager {
 public:
  CertManager(kube::Client& client, Clock& clock, CertManagerOptions options);

  // One pass; the objects written ("Secret/labkube-ca", ...), empty when all was well.
  absl::StatusOr<std::vector<std::string>> Reconcile();

  // Writes `secret`'s tls.crt, tls.key and ca.crt into `dir`. kNotFound when the Secret does
  // not exist yet.
  absl::Status WriteFiles(const std::string& secret, const std::string& dir);

  // Whether `cert` still has more than a third of the life it was issued with at `now`.
  static bool Fresh(const pki::CertInfo& cert, absl::Time now);

 private:
  absl::StatusOr<pki::KeyPair> EnsureCa(std::vector<std::string>& wrote);
  std::string TrustBundle(const pki::KeyPair& ca);
  absl::Status EnsureService(const ServiceCertificate& svc, const pki::KeyPair& ca,
                             const std::string& bundle, std::vector<std::string>& wrote);
  absl::Status EnsureConfigMap(const std::string& bundle, std::vector<std::string>& wrote);
  absl::Status EnsureWebhookBundle(const std::string& bundle, std::vector<std::string>& wrote);
  // Creates `object` (or replaces `existing` when it is not null, keeping its
  // resourceVersion) in the namespace.
  absl::Status Write(const kube::Resource& resource, rapidjson::Document object,
                     const rapidjson::Value* existing, std::vector<std::string>& wrote);

  kube::Client& client_;
  Clock& clock_;
  const CertManagerOptions options_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CERT_MANAGER_H_
