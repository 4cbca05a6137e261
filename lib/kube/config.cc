#include "lib/kube/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/kube/absl_compat.h"
#include "lib/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace labkube::kube {
namespace {

std::string Quote(std::string_view s) { return absl::StrCat("\"", ToAbsl(s), "\""); }

// Reads a whole file; the error says which file and why.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return absl::StrCat(dir, "/", path);
}

// Parsing state for one kubeconfig file: errors are prefixed with the file name.
class Kubeconfig {
 public:
  Kubeconfig(std::string path, YAML::Node root)
      : path_(std::move(path)), dir_(DirName(path_)), root_(std::move(root)) {}

  absl::Status Error(std::string_view field, std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path_, ": ", ToAbsl(field),
                                                   field.empty() ? "" : ": ", ToAbsl(what)));
  }

  // A scalar string at `node[key]`; "" when absent. `field` names it in errors.
  absl::StatusOr<std::string> String(const YAML::Node& node, const char* key,
                                     const std::string& field) const {
    YAML::Node v = node[key];
    if (!v.IsDefined() || v.IsNull()) return std::string();
    if (!v.IsScalar()) return Error(field, "must be a string");
    return v.as<std::string>();
  }

  // The entry named `name` in the list `list_key` ("clusters", "contexts", "users"), returning
  // its `inner_key` map ("cluster", "context", "user").
  absl::StatusOr<YAML::Node> Entry(const char* list_key, const char* inner_key,
                                   const std::string& name, const std::string& referrer) const {
    YAML::Node list = root_[list_key];
    if (list.IsDefined() && !list.IsNull() && !list.IsSequence()) {
      return Error(list_key, "must be a list");
    }
    std::vector<std::string> names;
    for (const YAML::Node& item : list) {
      YAML::Node n = item["name"];
      std::string item_name = n.IsScalar() ? n.as<std::string>() : "";
      if (item_name == name) {
        YAML::Node inner = item[inner_key];
        std::string field = absl::StrCat(list_key, "[", name, "].", inner_key);
        if (!inner.IsDefined() || inner.IsNull()) return YAML::Node(YAML::NodeType::Map);
        if (!inner.IsMap()) return Error(field, "must be a map");
        return inner;
      }
      names.push_back(item_name);
    }
    std::string singular(list_key, std::strlen(list_key) - 1);
    return Error(referrer, absl::StrCat(singular, " ", Quote(name), " not found (", list_key, ": ",
                                        names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }

  // Inline base64 `data_key` or file `file_key` (resolved against the file's dir) of `node`.
  absl::StatusOr<std::string> Pem(const YAML::Node& node, const std::string& prefix,
                                  const char* file_key, const char* data_key) const {
    std::string data_field = absl::StrCat(prefix, ".", data_key);
    LK_ASSIGN_OR_RETURN(std::string data, String(node, data_key, data_field));
    std::string pem;
    if (!data.empty()) {
      std::string compact(data);
      compact.erase(std::remove_if(compact.begin(), compact.end(),
                                   [](unsigned char c) { return absl::ascii_isspace(c); }),
                    compact.end());
      if (!absl::Base64Unescape(compact, &pem) || pem.empty()) {
        return Error(data_field, "not valid base64");
      }
      if (pem.find("-----BEGIN") == std::string::npos) {
        return Error(data_field, "decoded data is not PEM (no -----BEGIN line)");
      }
      return pem;
    }
    std::string file_field = absl::StrCat(prefix, ".", file_key);
    LK_ASSIGN_OR_RETURN(std::string file, String(node, file_key, file_field));
    if (file.empty()) return std::string();
    auto contents = ReadFile(Resolve(dir_, file));
    if (!contents.ok()) return Error(file_field, ToStd(contents.status().message()));
    if (contents->find("-----BEGIN") == std::string::npos) {
      return Error(file_field,
                   absl::StrCat(Resolve(dir_, file), " is not PEM (no -----BEGIN line)"));
    }
    return *contents;
  }

  absl::Status LoadCluster(const std::string& name, const std::string& referrer,
                           ClusterConfig& out) const {
    LK_ASSIGN_OR_RETURN(YAML::Node c, Entry("clusters", "cluster", name, referrer));
    std::string prefix = absl::StrCat("clusters[", name, "].cluster");
    LK_ASSIGN_OR_RETURN(out.server, String(c, "server", prefix + ".server"));
    if (out.server.empty()) return Error(prefix + ".server", "missing");
    if (!absl::StartsWith(out.server, "https://") && !absl::StartsWith(out.server, "http://")) {
      return Error(prefix + ".server", absl::StrCat(Quote(out.server), " is not an http(s) URL"));
    }
    while (out.server.size() > 8 && out.server.back() == '/') out.server.pop_back();
    LK_ASSIGN_OR_RETURN(out.ca_pem,
                        Pem(c, prefix, "certificate-authority", "certificate-authority-data"));
    YAML::Node insecure = c["insecure-skip-tls-verify"];
    if (insecure.IsDefined() && !insecure.IsNull()) {
      if (!insecure.IsScalar() ||
          !YAML::convert<bool>::decode(insecure, out.insecure_skip_tls_verify)) {
        return Error(prefix + ".insecure-skip-tls-verify", "must be true or false");
      }
    }
    return absl::OkStatus();
  }

  absl::Status LoadUser(const std::string& name, const std::string& referrer,
                        ClusterConfig& out) const {
    LK_ASSIGN_OR_RETURN(YAML::Node u, Entry("users", "user", name, referrer));
    std::string prefix = absl::StrCat("users[", name, "].user");
    if (u["exec"].IsDefined() || u["auth-provider"].IsDefined()) {
      return Error(prefix, "exec and auth-provider credential plugins are not supported");
    }
    LK_ASSIGN_OR_RETURN(out.client_cert_pem,
                        Pem(u, prefix, "client-certificate", "client-certificate-data"));
    LK_ASSIGN_OR_RETURN(out.client_key_pem, Pem(u, prefix, "client-key", "client-key-data"));
    if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
      return Error(prefix, out.client_cert_pem.empty()
                               ? "client-key given without client-certificate"
                               : "client-certificate given without client-key");
    }
    LK_ASSIGN_OR_RETURN(std::string token, String(u, "token", prefix + ".token"));
    out.token = std::string(absl::StripAsciiWhitespace(token));
    LK_ASSIGN_OR_RETURN(std::string token_file, String(u, "tokenFile", prefix + ".tokenFile"));
    if (!token_file.empty()) {
      out.token_file = Resolve(dir_, token_file);
      auto contents = ReadFile(out.token_file);
      if (!contents.ok()) return Error(prefix + ".tokenFile", ToStd(contents.status().message()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ClusterConfig> Load(std::string context) const {
    if (!root_.IsMap()) return Error("", "not a kubeconfig (top level is not a map)");
    if (context.empty()) {
      LK_ASSIGN_OR_RETURN(context, String(root_, "current-context", "current-context"));
      if (context.empty()) {
        return Error("current-context", "not set and no context was given");
      }
    }
    LK_ASSIGN_OR_RETURN(YAML::Node ctx, Entry("contexts", "context", context, ""));
    std::string prefix = absl::StrCat("contexts[", context, "].context");
    LK_ASSIGN_OR_RETURN(std::string cluster, String(ctx, "cluster", prefix + ".cluster"));
    if (cluster.empty()) return Error(prefix + ".cluster", "missing");
    LK_ASSIGN_OR_RETURN(std::string user, String(ctx, "user", prefix + ".user"));
    ClusterConfig out;
    LK_RETURN_IF_ERROR(LoadCluster(cluster, prefix + ".cluster", out));
    if (!user.empty()) LK_RETURN_IF_ERROR(LoadUser(user, prefix + ".user", out));
    LK_ASSIGN_OR_RETURN(std::string ns, String(ctx, "namespace", prefix + ".namespace"));
    if (!ns.empty()) out.default_namespace = ns;
    return out;
  }

 private:
  std::string path_;
  std::string dir_;
  YAML::Node root_;
};

std::optional<std::string> GetEnv(const ConfigEnvironment& env, const std::string& name) {
  if (env.getenv) return env.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

absl::StatusOr<ClusterConfig> LoadKubeconfig(std::string path, std::string context) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("kubeconfig ", path, ": ", text.status().message()));
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": invalid YAML at line ",
                                                   e.mark.line + 1, " column ", e.mark.column + 1,
                                                   ": ", e.msg));
  }
  try {
    return Kubeconfig(path, root).Load(std::move(context));
  } catch (const YAML::Exception& e) {  // e.g. a list where a map was expected
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": unexpected structure: ", e.what()));
  }
}

absl::StatusOr<ClusterConfig> LoadInCluster(const ConfigEnvironment& env) {
  std::optional<std::string> host = GetEnv(env, "KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = GetEnv(env, "KUBERNETES_SERVICE_PORT");
  if (!host || host->empty()) {
    return absl::NotFoundError("in-cluster: KUBERNETES_SERVICE_HOST is not set");
  }
  if (!port || port->empty()) {
    return absl::InvalidArgumentError(
        "in-cluster: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not");
  }
  ClusterConfig out;
  bool ipv6 = host->find(':') != std::string::npos;
  out.server = absl::StrCat("https://", ipv6 ? "[" : "", *host, ipv6 ? "]" : "", ":", *port);
  const std::string& dir = env.service_account_dir;
  out.token_file = dir + "/token";
  auto token = ReadFile(out.token_file);
  if (!token.ok())
    return absl::InvalidArgumentError(absl::StrCat("in-cluster: ", token.status().message()));
  auto ca = ReadFile(dir + "/ca.crt");
  if (!ca.ok())
    return absl::InvalidArgumentError(absl::StrCat("in-cluster: ", ca.status().message()));
  out.ca_pem = std::move(*ca);
  auto ns = ReadFile(dir + "/namespace");
  if (ns.ok() && !absl::StripAsciiWhitespace(*ns).empty()) {
    out.default_namespace = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return out;
}

absl::StatusOr<ClusterConfig> LoadDefault(const ConfigEnvironment& env) {
  std::optional<std::string> kubeconfig = GetEnv(env, "KUBECONFIG");
  if (kubeconfig && !kubeconfig->empty()) {
    std::vector<std::string> entries = absl::StrSplit(*kubeconfig, ':', absl::SkipEmpty());
    if (!entries.empty()) return LoadKubeconfig(entries[0]);
  }
  std::optional<std::string> host = GetEnv(env, "KUBERNETES_SERVICE_HOST");
  if (host && !host->empty()) return LoadInCluster(env);
  std::optional<std::string> home = GetEnv(env, "HOME");
  std::string fallback = home && !home->empty() ? *home + "/.kube/config" : "";
  if (!fallback.empty() && FileExists(fallback)) return LoadKubeconfig(fallback);
  return absl::NotFoundError(
      absl::StrCat("no cluster configuration: $KUBECONFIG is not set, not running in a cluster "
                   "(no KUBERNETES_SERVICE_HOST), and ",
                   fallback.empty() ? "$HOME is not set" : fallback + " does not exist"));
}

}  // namespace labkube::kube
