#include "services/gateway/workspace_spec.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "services/gateway/names.h"

namespace labkube::gateway {
namespace {

kube::ObjectMeta Metadata(const WorkspaceSpec& s, std::string name, const Owner& owner) {
  kube::ObjectMeta meta;
  meta.name = std::move(name);
  meta.namespace_ = s.ns;
  meta.labels = WorkspaceLabels(s.member, s.name);
  meta.labels[contract::kWorkspaceKindLabel] = std::string(KindName(s.kind));
  meta.owner_references.push_back({std::string(kWorkspaceApiVersion), std::string(kWorkspaceKind),
                                   owner.name, owner.uid, /*controller=*/true,
                                   /*block_owner_deletion=*/false});
  return meta;
}

// First 16 bytes of the SHA-256 of `text`, in hex.
std::string Digest(std::string_view text) {
  unsigned char sum[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), sum);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(sum), 16));
}

bool IsCodeServer(const WorkspaceSpec& s) { return s.kind == gw::WORKSPACE_KIND_CODESERVER; }

rapidjson::Value NamedValue(kube::Builder& b, std::string_view name, std::string_view value) {
  return b.Object({{"name", b.Str(name)}, {"value", b.Str(value)}});
}

rapidjson::Value FromToken(kube::Builder& b, const WorkspaceSpec& s, std::string_view name) {
  return b.Object(
      {{"name", b.Str(name)},
       {"valueFrom", b.Object({{"secretKeyRef", b.Object({{"name", b.Str(TokenSecretName(s.name))},
                                                          {"key", b.Str("token")}})}})}});
}

// code-server: password auth with $PASSWORD; serves relative URLs (the Ingress path must be
// stripped by the ingress controller, or use a host-per-workspace pattern). Jupyter
// docker-stacks images: JUPYTER_TOKEN, and NOTEBOOK_ARGS appended by start-notebook.py.
rapidjson::Value Env(kube::Builder& b, const WorkspaceSpec& s) {
  rapidjson::Value env = b.Array({NamedValue(b, "LABKUBE_WORKSPACE", s.name)});
  if (IsCodeServer(s)) {
    b.Push(env, FromToken(b, s, "PASSWORD"));
    return env;
  }
  std::string args = absl::StrCat("--ServerApp.base_url=", s.path);
  if (!s.data_path.empty()) absl::StrAppend(&args, " --ServerApp.root_dir=", s.data_path);
  b.Push(env, FromToken(b, s, "JUPYTER_TOKEN"));
  b.Push(env, NamedValue(b, "NOTEBOOK_ARGS", args));
  return env;
}

std::string VolumeName(size_t i) { return absl::StrCat("vol-", i); }

rapidjson::Value Container(kube::Builder& b, const WorkspaceSpec& s) {
  rapidjson::Value mounts = b.Array({});
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    b.Push(mounts, b.Object({{"name", b.Str(VolumeName(i))},
                             {"mountPath", b.Str(s.mounts[i].path)},
                             {"readOnly", b.Bool(s.mounts[i].read_only)}}));
  }
  const std::string probe = IsCodeServer(s) ? "/healthz" : absl::StrCat(s.path, "api");
  return b.Object(
      {{"name", b.Str(kWorkspaceContainer)},
       {"image", b.Str(s.image)},
       {"ports", b.Array({b.Object({{"name", b.Str("http")},
                                    {"containerPort", b.Int(IsCodeServer(s) ? 8080 : 8888)}})})},
       {"env", Env(b, s)},
       {"envFrom",
        b.Array({b.Object({{"configMapRef", b.Object({{"name", b.Str(s.settings_config_map)},
                                                      {"optional", b.Bool(true)}})}})})},
       {"readinessProbe",
        b.Object({{"httpGet", b.Object({{"path", b.Str(probe)}, {"port", b.Str("http")}})},
                  {"periodSeconds", b.Int(5)}})},
       {"securityContext", b.Object({{"allowPrivilegeEscalation", b.Bool(false)}})},
       {"volumeMounts", std::move(mounts)}});
}

rapidjson::Value PodTemplate(kube::Builder& b, const WorkspaceSpec& s) {
  kube::ObjectMeta meta;
  meta.labels = WorkspaceLabels(s.member, s.name);
  meta.labels[contract::kWorkspaceKindLabel] = std::string(KindName(s.kind));
  meta.labels[contract::kRoleLabel] = contract::kRoleGuest;
  meta.labels[contract::kGroupLabel] = s.group;
  meta.labels[contract::kTypeLabel] = s.type;
  meta.labels[contract::kInjectingContainerLabel] = kWorkspaceContainer;
  rapidjson::Value pull = b.Array({});
  for (const std::string& p : s.image_pull_secrets) b.Push(pull, b.Object({{"name", b.Str(p)}}));
  rapidjson::Value volumes = b.Array({});
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    b.Push(volumes, b.Object({{"name", b.Str(VolumeName(i))},
                              {"persistentVolumeClaim",
                               b.Object({{"claimName", b.Str(s.mounts[i].claim)},
                                         {"readOnly", b.Bool(s.mounts[i].read_only)}})}}));
  }
  return b.Object({{"metadata", b.Meta(meta)},
                   {"spec", b.Object({{"automountServiceAccountToken", b.Bool(false)},
                                      {"enableServiceLinks", b.Bool(false)},
                                      {"imagePullSecrets", std::move(pull)},
                                      {"containers", b.Array({Container(b, s)})},
                                      {"volumes", std::move(volumes)}})}});
}

rapidjson::Value IngressRule(kube::Builder& b, const WorkspaceSpec& s) {
  rapidjson::Value backend =
      b.Object({{"service", b.Object({{"name", b.Str(DeploymentName(s.name))},
                                      {"port", b.Object({{"name", b.Str("http")}})}})}});
  rapidjson::Value rule = b.Object({});
  if (!s.host.empty()) b.Add(rule, "host", b.Str(s.host));
  b.Add(rule, "http",
        b.Object({{"paths", b.Array({b.Object({{"path", b.Str(s.path)},
                                               {"pathType", b.Str("Prefix")},
                                               {"backend", std::move(backend)}})})}}));
  return rule;
}

}  // namespace

std::string DefaultImage(const WorkspaceOptions& o, gw::WorkspaceKind kind) {
  return kind == gw::WORKSPACE_KIND_CODESERVER ? o.codeserver_image : o.jupyterlab_image;
}

void Route(const WorkspaceOptions& o, WorkspaceSpec& s) {
  s.host = ExpandPattern(o.ingress_host, s.member, s.name, s.ns);
  std::string path = ExpandPattern(o.ingress_path, s.member, s.name, s.ns);
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  if (path.back() != '/') path.push_back('/');
  s.path = std::move(path);
  s.url = s.host.empty() ? s.path : absl::StrCat(o.url_scheme, "://", s.host, s.path);
  s.ingress_class = o.ingress_class;
  s.ingress_tls_secret = o.ingress_tls_secret;
}

std::string DeploymentName(std::string_view workspace) {
  return absl::StrCat("ws-", ToAbsl(workspace));
}

std::string TokenSecretName(std::string_view workspace) {
  return absl::StrCat("ws-", ToAbsl(workspace), "-token");
}

std::map<std::string, std::string> WorkspaceLabels(std::string_view member,
                                                   std::string_view workspace) {
  return {{contract::kManagedByLabel, contract::kManagedByGateway},
          {contract::kComponentLabel, "workspace"},
          {contract::kWorkspaceLabel, std::string(workspace)},
          {contract::kUserLabel, std::string(member)}};
}

absl::StatusOr<rapidjson::Document> BuildDeployment(const WorkspaceSpec& s, const Owner& owner) {
  kube::ObjectMeta meta = Metadata(s, DeploymentName(s.name), owner);
  kube::Builder b;
  rapidjson::Value spec =
      b.Object({{"replicas", b.Int(1)},
                {"strategy", b.Object({{"type", b.Str("Recreate")}})},
                {"revisionHistoryLimit", b.Int(1)},
                {"selector", b.Object({{"matchLabels", b.Map(WorkspaceLabels(s.member, s.name))}})},
                {"template", PodTemplate(b, s)}});
  // The machine type annotation's key is the type label's: "labkube.io/machine-type".
  meta.annotations = {{contract::kUrlAnnotation, s.url},
                      {contract::kTypeLabel, absl::StrCat(s.group, "/", s.type)},
                      {contract::kWorkspaceSpecAnnotation, Digest(kube::json::ToString(spec))}};
  return b.Finish(b.Manifest("apps/v1", "Deployment", meta, {{"spec", std::move(spec)}}));
}

absl::StatusOr<rapidjson::Document> BuildSecret(const WorkspaceSpec& s, const Owner& owner,
                                                std::string_view token) {
  kube::Builder b;
  return b.Finish(
      b.Manifest("v1", "Secret", Metadata(s, TokenSecretName(s.name), owner),
                 {{"type", b.Str("Opaque")}, {"stringData", b.Object({{"token", b.Str(token)}})}}));
}

absl::StatusOr<rapidjson::Document> BuildService(const WorkspaceSpec& s, const Owner& owner) {
  kube::Builder b;
  rapidjson::Value spec = b.Object(
      {{"type", b.Str("ClusterIP")},
       {"selector", b.Map(WorkspaceLabels(s.member, s.name))},
       {"ports",
        b.Array({b.Object(
            {{"name", b.Str("http")}, {"port", b.Int(80)}, {"targetPort", b.Str("http")}})})}});
  return b.Finish(b.Manifest("v1", "Service", Metadata(s, DeploymentName(s.name), owner),
                             {{"spec", std::move(spec)}}));
}

absl::StatusOr<rapidjson::Document> BuildIngress(const WorkspaceSpec& s, const Owner& owner) {
  kube::Builder b;
  rapidjson::Value spec = b.Object({});
  if (!s.ingress_class.empty()) b.Add(spec, "ingressClassName", b.Str(s.ingress_class));
  if (!s.ingress_tls_secret.empty()) {
    rapidjson::Value tls = b.Object({{"secretName", b.Str(s.ingress_tls_secret)}});
    if (!s.host.empty()) b.Add(tls, "hosts", b.Array({b.Str(s.host)}));
    b.Add(spec, "tls", b.Array({std::move(tls)}));
  }
  b.Add(spec, "rules", b.Array({IngressRule(b, s)}));
  return b.Finish(b.Manifest("networking.k8s.io/v1", "Ingress",
                             Metadata(s, DeploymentName(s.name), owner),
                             {{"spec", std::move(spec)}}));
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
