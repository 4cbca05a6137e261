#include "clients/cli/kubeconfig_merge.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "absl/strings/str_cat.h"

namespace labkube::cli {
namespace {

absl::StatusOr<YAML::Node> Load(const std::string& text, const char* what) {
  try {
    YAML::Node node = text.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(text);
    if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
    if (!node.IsMap())
      return absl::InvalidArgumentError(absl::StrCat(what, " is not a kubeconfig"));
    return node;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid YAML: ", e.what()));
  }
}

void MergeList(YAML::Node& into, const YAML::Node& from, const char* key) {
  if (!from[key] || !from[key].IsSequence()) return;
  YAML::Node merged(YAML::NodeType::Sequence);
  std::set<std::string> incoming;
  for (const YAML::Node& entry : from[key]) incoming.insert(entry["name"].as<std::string>(""));
  if (into[key] && into[key].IsSequence()) {
    for (const YAML::Node& entry : into[key]) {
      if (incoming.count(entry["name"].as<std::string>("")) == 0) merged.push_back(entry);
    }
  }
  for (const YAML::Node& entry : from[key]) merged.push_back(entry);
  into[key] = merged;
}

}  // namespace

absl::StatusOr<std::string> MergeKubeconfig(const std::string& existing,
                                            const std::string& incoming) {
  absl::StatusOr<YAML::Node> into = Load(existing, "the existing kubeconfig");
  if (!into.ok()) return into.status();
  absl::StatusOr<YAML::Node> from = Load(incoming, "the gateway's kubeconfig");
  if (!from.ok()) return from.status();
  if (!(*into)["apiVersion"]) (*into)["apiVersion"] = "v1";
  if (!(*into)["kind"]) (*into)["kind"] = "Config";
  for (const char* key : {"clusters", "users", "contexts"}) MergeList(*into, *from, key);
  if ((*from)["current-context"]) (*into)["current-context"] = (*from)["current-context"];
  YAML::Emitter out;
  out << *into;
  return absl::StrCat(out.c_str(), "\n");
}

std::string DefaultKubeconfigPath(const Getenv& getenv) {
  if (auto env = getenv("KUBECONFIG"); env.has_value() && !env->empty()) {
    return env->substr(0, env->find(':'));
  }
  return absl::StrCat(getenv("HOME").value_or(""), "/.kube/config");
}

absl::StatusOr<std::string> SetExecEnv(const std::string& kubeconfig, const std::string& name,
                                       const std::string& value) {
  absl::StatusOr<YAML::Node> root = Load(kubeconfig, "the kubeconfig");
  if (!root.ok()) return root.status();
  YAML::Node users = (*root)["users"];
  if (users && users.IsSequence()) {
    for (YAML::Node user : users) {
      YAML::Node exec = user["user"]["exec"];
      if (!exec || !exec.IsMap()) continue;
      YAML::Node env(YAML::NodeType::Sequence);
      if (exec["env"] && exec["env"].IsSequence()) {
        for (const YAML::Node& e : exec["env"]) {
          if (e["name"].as<std::string>("") != name) env.push_back(e);
        }
      }
      YAML::Node entry;
      entry["name"] = name;
      entry["value"] = value;
      env.push_back(entry);
      exec["env"] = env;
    }
  }
  YAML::Emitter out;
  out << *root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace labkube::cli
