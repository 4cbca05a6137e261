#include "services/authenticator/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace labkube::authenticator {
namespace {

YAML::Node ClusterEntry(const KubeconfigParams& p) {
  YAML::Node cluster;
  cluster["server"] = p.server;
  if (!p.ca_pem.empty()) cluster["certificate-authority-data"] = absl::Base64Escape(p.ca_pem);
  YAML::Node entry;
  entry["name"] = p.cluster_name;
  entry["cluster"] = cluster;
  return entry;
}

YAML::Node UserEntry(const KubeconfigParams& p, const std::string& user_name) {
  YAML::Node user;
  if (p.form == CredentialForm::kExec) {
    YAML::Node exec;
    exec["apiVersion"] = "client.authentication.k8s.io/v1";
    exec["command"] = "labctl";
    exec["args"].push_back("credential");
    exec["interactiveMode"] = "Never";
    user["exec"] = exec;
  } else {
    user["token"] = p.token;
  }
  YAML::Node entry;
  entry["name"] = user_name;
  entry["user"] = user;
  return entry;
}

}  // namespace

std::string RenderKubeconfig(const KubeconfigParams& p) {
  const std::string user_name = absl::StrCat(p.user, "@", p.cluster_name);
  const std::string context_name = user_name;
  YAML::Node context;
  context["cluster"] = p.cluster_name;
  context["user"] = user_name;
  context["namespace"] = p.ns;
  YAML::Node context_entry;
  context_entry["name"] = context_name;
  context_entry["context"] = context;

  YAML::Node root;
  root["apiVersion"] = "v1";
  root["kind"] = "Config";
  root["clusters"].push_back(ClusterEntry(p));
  root["users"].push_back(UserEntry(p, user_name));
  root["contexts"].push_back(context_entry);
  root["current-context"] = context_name;
  YAML::Emitter out;
  out << root;
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace labkube::authenticator
