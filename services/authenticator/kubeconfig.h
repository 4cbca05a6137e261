// RenderKubeconfig: the kubeconfig YAML handed to a member or a bot: one cluster (the API
// server URL as users reach it, with its CA), one user, one context whose default namespace is
// theirs, selected as current-context. The user authenticates either with the token itself or
// with the `labctl credential` exec plugin (client.authentication.k8s.io/v1 ExecCredential), so
// kubectl fetches fresh tokens by itself.
//
// Pure function, safe from any thread. The output contains the token: never log it.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_KUBECONFIG_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_KUBECONFIG_H_

#include <string>

namespace labkube::authenticator {

enum class CredentialForm { kToken, kExec };

struct KubeconfigParams {
  std::string cluster_name = "labkube";
  std::string server;  // https://host:port
  std::string ca_pem;  // "" = the client's system trust store
  std::string user;    // e.g. the member name; context is "<user>@<cluster_name>"
  std::string ns;      // the context's default namespace
  CredentialForm form = CredentialForm::kToken;
  std::string token;  // for kToken
};

std::string RenderKubeconfig(const KubeconfigParams& params);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_KUBECONFIG_H_
