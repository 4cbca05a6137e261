// MergeKubeconfig: puts the clusters, users and contexts of one kubeconfig into another
// (entries with the same name are replaced, others kept) and makes its current-context the
// current one, as `labctl kubeconfig --merge` does with ~/.kube/config.
//
// Pure function over YAML text; thread-safe.
#ifndef LABKUBE_CLIENTS_CLI_KUBECONFIG_MERGE_H_
#define LABKUBE_CLIENTS_CLI_KUBECONFIG_MERGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "clients/cli/config_store.h"

namespace labkube::cli {

// `existing` may be "" (no file yet). kInvalidArgument when either is not a kubeconfig.
absl::StatusOr<std::string> MergeKubeconfig(const std::string& existing,
                                            const std::string& incoming);

// Adds environment variable `name`=`value` to every exec credential plugin of `kubeconfig`
// (replacing an entry of that name), so kubectl runs `labctl credential` with the same
// LABCTL_CONFIG_DIR as the labctl that wrote it. kInvalidArgument when it is not a kubeconfig.
absl::StatusOr<std::string> SetExecEnv(const std::string& kubeconfig, const std::string& name,
                                       const std::string& value);

// $KUBECONFIG's first entry, else $HOME/.kube/config.
std::string DefaultKubeconfigPath(const Getenv& getenv);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_KUBECONFIG_MERGE_H_
