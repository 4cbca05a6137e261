#include "lib/service/kube_client.h"

#include <utility>

#include "lib/kube/rest_client.h"
#include "lib/status_macros.h"

namespace labkube::service {

absl::StatusOr<kube::ClusterConfig> LoadClusterConfig(const std::string& kubeconfig) {
  return kubeconfig.empty() ? kube::LoadDefault() : kube::LoadKubeconfig(kubeconfig);
}

absl::StatusOr<std::unique_ptr<kube::Client>> NewKubeClient(const kube::ClusterConfig& config) {
  LK_ASSIGN_OR_RETURN(std::unique_ptr<kube::RestClient> client, kube::RestClient::Create(config));
  return std::unique_ptr<kube::Client>(std::move(client));
}

absl::StatusOr<std::unique_ptr<kube::Client>> NewKubeClient(const std::string& kubeconfig) {
  LK_ASSIGN_OR_RETURN(kube::ClusterConfig config, LoadClusterConfig(kubeconfig));
  return NewKubeClient(config);
}

}  // namespace labkube::service
