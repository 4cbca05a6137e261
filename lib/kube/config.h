// Where the API server is and how to authenticate to it: ClusterConfig, loaded from a
// kubeconfig file, from the in-cluster service account, or from the usual default search.
//
// Every error names the source (kubeconfig path or "in-cluster"), the field and what is wrong.
// Loading is a one-shot, stateless operation; the functions are thread-safe. ClusterConfig is a
// plain value; it holds secrets (token, key): never log it.
#ifndef LABKUBE_LIB_KUBE_CONFIG_H_
#define LABKUBE_LIB_KUBE_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace labkube::kube {

struct ClusterConfig {
  std::string server;           // "https://host:port" (no trailing slash)
  std::string ca_pem;           // "" = the system trust store
  std::string client_cert_pem;  // client certificate authentication when both are set
  std::string client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // bearer token re-read by the transport when it changes (wins)
  std::string default_namespace = "default";
  bool insecure_skip_tls_verify = false;
};

// Loads `path`, using `context` or, when empty, the file's current-context. certificate-authority,
// client-certificate, client-key and tokenFile paths are resolved against the file's directory.
// Missing file: kNotFound; anything else wrong: kInvalidArgument.
absl::StatusOr<ClusterConfig> LoadKubeconfig(std::string path, std::string context = "");

// The process environment, injectable for tests.
struct ConfigEnvironment {
  // Returns the environment variable or nullopt; default: ::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// In-cluster config: KUBERNETES_SERVICE_HOST/PORT and the service account's token (kept as
// token_file), ca.crt and namespace. kNotFound when not running in a cluster (no
// KUBERNETES_SERVICE_HOST).
absl::StatusOr<ClusterConfig> LoadInCluster(const ConfigEnvironment& env = {});

// $KUBECONFIG (its first entry), else in-cluster, else $HOME/.kube/config; kNotFound when none
// of them exists.
absl::StatusOr<ClusterConfig> LoadDefault(const ConfigEnvironment& env = {});

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_CONFIG_H_
