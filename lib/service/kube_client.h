// The Kubernetes client of a service, from its --kubeconfig flag: the file when one is named,
// else the default chain ($KUBECONFIG, in-cluster ServiceAccount, ~/.kube/config). Stateless and
// thread-safe; the returned client is the caller's.
#ifndef LABKUBE_LIB_SERVICE_KUBE_CLIENT_H_
#define LABKUBE_LIB_SERVICE_KUBE_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/config.h"

namespace labkube::service {

// `kubeconfig` "" = kube::LoadDefault(), else kube::LoadKubeconfig(kubeconfig).
absl::StatusOr<kube::ClusterConfig> LoadClusterConfig(const std::string& kubeconfig);

// A REST client for `config` (kube::RestClient).
absl::StatusOr<std::unique_ptr<kube::Client>> NewKubeClient(const kube::ClusterConfig& config);
// LoadClusterConfig, then NewKubeClient.
absl::StatusOr<std::unique_ptr<kube::Client>> NewKubeClient(const std::string& kubeconfig);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_KUBE_CLIENT_H_
