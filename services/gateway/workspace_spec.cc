#include "services/gateway/workspace_spec.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/substitute.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "services/gateway/names.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

std::string LabelsJson(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(JsonQuote(k), ":", JsonQuote(v)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Metadata(const WorkspaceSpec& s, std::string_view name, const Owner* owner,
                     std::string_view annotations = "{}") {
  std::string owners;
  if (owner != nullptr) {
    owners = absl::Substitute(
        R"(,"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":$0,"uid":$1,"controller":true}])",
        JsonQuote(owner->name), JsonQuote(owner->uid));
  }
  std::map<std::string, std::string> labels = WorkspaceLabels(s.member, s.name);
  labels[kWorkspaceKindLabel] = std::string(KindName(s.kind));
  return absl::Substitute(R"({"name":$0,"namespace":$1,"labels":$2,"annotations":$3$4})",
                          JsonQuote(name), JsonQuote(s.ns), LabelsJson(labels), ToAbsl(annotations),
                          owners);
}

rapidjson::Document ParseOrDie(const std::string& text) {
  absl::StatusOr<rapidjson::Document> doc = json::Parse(text);
  if (!doc.ok()) {
    std::fprintf(stderr, "workspace_spec: bad JSON (%s): %s\n", doc.status().ToString().c_str(),
                 text.c_str());
    std::abort();
  }
  return std::move(doc).value();
}

struct KindSpec {
  int port;
  std::string env;  // extra env entries (JSON, leading comma)
  std::string probe_path;
};

KindSpec ForKind(const WorkspaceSpec& s) {
  const std::string token_ref = absl::Substitute(R"({"secretKeyRef":{"name":$0,"key":"token"}})",
                                                 JsonQuote(TokenSecretName(s.name)));
  if (s.kind == gw::WORKSPACE_KIND_CODESERVER) {
    // code-server: password auth with $PASSWORD; serves relative URLs (the Ingress path
    // must be stripped by the ingress controller, or use a host-per-workspace pattern).
    return {8080, absl::StrCat(R"(,{"name":"PASSWORD","valueFrom":)", token_ref, "}"), "/healthz"};
  }
  // Jupyter docker-stacks images: JUPYTER_TOKEN, and NOTEBOOK_ARGS appended by
  // start-notebook.py.
  std::string args = absl::StrCat("--ServerApp.base_url=", s.path);
  if (!s.data_path.empty()) absl::StrAppend(&args, " --ServerApp.root_dir=", s.data_path);
  return {8888,
          absl::StrCat(R"(,{"name":"JUPYTER_TOKEN","valueFrom":)", token_ref, "}",
                       R"(,{"name":"NOTEBOOK_ARGS","value":)", JsonQuote(args), "}"),
          absl::StrCat(s.path, "api")};
}

std::string VolumesJson(const WorkspaceSpec& s, std::string* mounts_json) {
  std::vector<std::string> volumes;
  std::vector<std::string> mounts;
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    const Mount& m = s.mounts[i];
    const std::string name = absl::StrCat("vol-", i);
    volumes.push_back(
        absl::Substitute(R"({"name":"$0","persistentVolumeClaim":{"claimName":$1,"readOnly":$2}})",
                         name, JsonQuote(m.claim), m.read_only ? "true" : "false"));
    mounts.push_back(absl::Substitute(R"({"name":"$0","mountPath":$1,"readOnly":$2})", name,
                                      JsonQuote(m.path), m.read_only ? "true" : "false"));
  }
  *mounts_json = absl::StrCat("[", absl::StrJoin(mounts, ","), "]");
  return absl::StrCat("[", absl::StrJoin(volumes, ","), "]");
}

std::string Container(const WorkspaceSpec& s, const std::string& mounts) {
  const KindSpec k = ForKind(s);
  return absl::Substitute(
      R"({"name":"$0","image":$1,"ports":[{"name":"http","containerPort":$2}],
          "env":[{"name":"LABKUBE_WORKSPACE","value":$3}$4],
          "envFrom":[{"configMapRef":{"name":$5,"optional":true}}],
          "readinessProbe":{"httpGet":{"path":$6,"port":"http"},"periodSeconds":5},
          "securityContext":{"allowPrivilegeEscalation":false},"volumeMounts":$7})",
      kWorkspaceContainer, JsonQuote(s.image), k.port, JsonQuote(s.name), k.env,
      JsonQuote(s.settings_config_map), JsonQuote(k.probe_path), mounts);
}

std::string PodTemplate(const WorkspaceSpec& s) {
  std::map<std::string, std::string> labels = WorkspaceLabels(s.member, s.name);
  labels[kWorkspaceKindLabel] = std::string(KindName(s.kind));
  labels[kPodRoleLabel] = "guest";
  labels[kMachineGroupLabel] = s.group;
  labels[kMachineTypeLabel] = s.type;
  labels[kInjectingContainerLabel] = kWorkspaceContainer;
  std::vector<std::string> pull;
  for (const std::string& p : s.image_pull_secrets) {
    pull.push_back(absl::StrCat(R"({"name":)", JsonQuote(p), "}"));
  }
  std::string mounts;
  const std::string volumes = VolumesJson(s, &mounts);
  return absl::Substitute(
      R"({"metadata":{"labels":$0},
          "spec":{"automountServiceAccountToken":false,"enableServiceLinks":false,
                  "imagePullSecrets":[$1],"containers":[$2],"volumes":$3}})",
      LabelsJson(labels), absl::StrJoin(pull, ","), Container(s, mounts), volumes);
}

}  // namespace

std::string DeploymentName(std::string_view workspace) {
  return absl::StrCat("ws-", ToAbsl(workspace));
}

std::string TokenSecretName(std::string_view workspace) {
  return absl::StrCat("ws-", ToAbsl(workspace), "-token");
}

std::map<std::string, std::string> WorkspaceLabels(std::string_view member,
                                                   std::string_view workspace) {
  return {{kManagedByLabel, kManagedBy},
          {kComponentLabel, "workspace"},
          {kWorkspaceLabel, std::string(workspace)},
          {kUserLabel, std::string(member)}};
}

rapidjson::Document BuildDeployment(const WorkspaceSpec& s) {
  const std::string pod = PodTemplate(s);
  const std::string annotations = absl::StrCat(
      "{", JsonQuote(kUrlAnnotation), ":", JsonQuote(s.url), ",", JsonQuote(kMachineAnnotation),
      ":", JsonQuote(absl::StrCat(s.group, "/", s.type)), "}");
  return ParseOrDie(absl::Substitute(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":$0,
          "spec":{"replicas":1,"strategy":{"type":"Recreate"},"revisionHistoryLimit":1,
                  "selector":{"matchLabels":$1},"template":$2}})",
      Metadata(s, DeploymentName(s.name), nullptr, annotations),
      LabelsJson(WorkspaceLabels(s.member, s.name)), pod));
}

rapidjson::Document BuildSecret(const WorkspaceSpec& s, const Owner& owner,
                                std::string_view token) {
  return ParseOrDie(absl::Substitute(
      R"({"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":$0,
          "stringData":{"token":$1}})",
      Metadata(s, TokenSecretName(s.name), &owner), JsonQuote(token)));
}

rapidjson::Document BuildService(const WorkspaceSpec& s, const Owner& owner) {
  return ParseOrDie(absl::Substitute(
      R"({"apiVersion":"v1","kind":"Service","metadata":$0,
          "spec":{"type":"ClusterIP","selector":$1,
                  "ports":[{"name":"http","port":80,"targetPort":"http"}]}})",
      Metadata(s, DeploymentName(s.name), &owner), LabelsJson(WorkspaceLabels(s.member, s.name))));
}

rapidjson::Document BuildIngress(const WorkspaceSpec& s, const Owner& owner) {
  std::string spec;
  if (!s.ingress_class.empty()) {
    absl::StrAppend(&spec, R"("ingressClassName":)", JsonQuote(s.ingress_class), ",");
  }
  if (!s.ingress_tls_secret.empty()) {
    absl::StrAppend(&spec, R"("tls":[{"secretName":)", JsonQuote(s.ingress_tls_secret),
                    s.host.empty() ? "" : absl::StrCat(R"(,"hosts":[)", JsonQuote(s.host), "]"),
                    "}],");
  }
  const std::string host = s.host.empty() ? "" : absl::StrCat(R"("host":)", JsonQuote(s.host), ",");
  absl::StrAppend(&spec, absl::Substitute(
                             R"("rules":[{$0"http":{"paths":[{"path":$1,"pathType":"Prefix",
          "backend":{"service":{"name":$2,"port":{"name":"http"}}}}]}}])",
                             host, JsonQuote(s.path), JsonQuote(DeploymentName(s.name))));
  return ParseOrDie(absl::Substitute(
      R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":$0,"spec":{$1}})",
      Metadata(s, DeploymentName(s.name), &owner), spec));
}

std::string_view KindName(gw::WorkspaceKind kind) {
  switch (kind) {
    case gw::WORKSPACE_KIND_JUPYTERLAB:
      return "jupyterlab";
    case gw::WORKSPACE_KIND_CODESERVER:
      return "codeserver";
    default:
      return "";
  }
}

gw::WorkspaceKind KindFromName(std::string_view name) {
  if (name == "jupyterlab") return gw::WORKSPACE_KIND_JUPYTERLAB;
  if (name == "codeserver") return gw::WORKSPACE_KIND_CODESERVER;
  return gw::WORKSPACE_KIND_UNSPECIFIED;
}

std::string NewAccessToken() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::fprintf(stderr, "workspace_spec: RAND_bytes failed\n");
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace labkube::gateway
