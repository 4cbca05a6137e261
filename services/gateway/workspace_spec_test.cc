#include "services/gateway/workspace_spec.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::gateway {
namespace {

namespace json = kube::json;

WorkspaceSpec Spec() {
  WorkspaceSpec s;
  s.member = "alice";
  s.ns = "lab-alice";
  s.name = "nb";
  s.kind = gw::WORKSPACE_KIND_JUPYTERLAB;
  s.group = "lab";
  s.type = "rtx3090";
  s.image = "quay.io/jupyter/base-notebook:latest";
  s.image_pull_secrets = {"regcred"};
  s.mounts = {{"labkube-cephfs", "/data", false}, {"labkube-nfs", "/backup", true}};
  s.data_path = "/data";
  s.settings_config_map = "labkube-settings";
  s.host = "labkube.local";
  s.path = "/alice/nb/";
  s.url = "https://labkube.local/alice/nb/";
  return s;
}

TEST(WorkspaceSpecTest, DeploymentIsAGuestOfItsMachineType) {
  rapidjson::Document d = BuildDeployment(Spec(), Owner{"nb", "uid-1"}).value();
  EXPECT_EQ(json::GetString(d, {"metadata", "name"}), "ws-nb");
  EXPECT_EQ(json::GetInt(d, {"spec", "replicas"}), 1);
  EXPECT_EQ(json::GetString(d, {"spec", "strategy", "type"}), "Recreate");
  EXPECT_EQ(json::GetString(d, {"metadata", "annotations", "labkube.io/url"}),
            "https://labkube.local/alice/nb/");
  const rapidjson::Value& t = d["spec"]["template"];
  EXPECT_EQ(json::GetString(t, {"metadata", "labels", "labkube.io/pod-role"}), "guest");
  EXPECT_EQ(json::GetString(t, {"metadata", "labels", "labkube.io/machine-group"}), "lab");
  EXPECT_EQ(json::GetString(t, {"metadata", "labels", "labkube.io/machine-type"}), "rtx3090");
  EXPECT_EQ(json::GetString(t, {"metadata", "labels", "labkube.io/injecting-container"}),
            "workspace");
  EXPECT_EQ(json::GetString(t, {"metadata", "labels", "labkube.io/workspace"}), "nb");
  // The selector matches the template.
  for (const auto& m : d["spec"]["selector"]["matchLabels"].GetObject()) {
    EXPECT_EQ(json::GetString(t, {"metadata", "labels", m.name.GetString()}), m.value.GetString());
  }
  const rapidjson::Value& pod = t["spec"];
  EXPECT_FALSE(json::GetBool(pod, {"automountServiceAccountToken"}, true));
  EXPECT_STREQ(pod["imagePullSecrets"][0]["name"].GetString(), "regcred");
  ASSERT_EQ(pod["volumes"].Size(), 2u);
  EXPECT_TRUE(json::GetBool(pod["volumes"][1], {"persistentVolumeClaim", "readOnly"}));
  const rapidjson::Value& c = pod["containers"][0];
  EXPECT_STREQ(c["name"].GetString(), "workspace");
  EXPECT_STREQ(c["volumeMounts"][0]["mountPath"].GetString(), "/data");
  EXPECT_TRUE(c["volumeMounts"][1]["readOnly"].GetBool());
  EXPECT_EQ(json::GetString(c, {"readinessProbe", "httpGet", "path"}), "/alice/nb/api");
  bool token = false, args = false;
  for (const auto& e : c["env"].GetArray()) {
    std::string_view name = json::GetString(e, {"name"});
    if (name == "JUPYTER_TOKEN") {
      token = json::GetString(e, {"valueFrom", "secretKeyRef", "name"}) == "ws-nb-token";
    }
    if (name == "NOTEBOOK_ARGS") {
      args = json::GetString(e, {"value"}) ==
             "--ServerApp.base_url=/alice/nb/ --ServerApp.root_dir=/data";
    }
  }
  EXPECT_TRUE(token);
  EXPECT_TRUE(args);
  EXPECT_EQ(json::GetString(c["envFrom"][0], {"configMapRef", "name"}), "labkube-settings");
}

TEST(WorkspaceSpecTest, CodeServerUsesPasswordAndHealthz) {
  WorkspaceSpec s = Spec();
  s.kind = gw::WORKSPACE_KIND_CODESERVER;
  s.mounts.clear();
  rapidjson::Document d = BuildDeployment(s, Owner{"nb", "uid-1"}).value();
  const rapidjson::Value& c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(json::GetString(c, {"readinessProbe", "httpGet", "path"}), "/healthz");
  EXPECT_EQ(json::GetInt(c["ports"][0], {"containerPort"}), 8080);
  EXPECT_STREQ(c["env"][1]["name"].GetString(), "PASSWORD");
  EXPECT_EQ(d["spec"]["template"]["spec"]["volumes"].Size(), 0u);
  EXPECT_EQ(json::GetString(d, {"metadata", "labels", "labkube.io/workspace-kind"}), "codeserver");
}

TEST(WorkspaceSpecTest, EveryObjectIsControlledByTheWorkspace) {
  const Owner owner{"nb", "uid-1"};
  WorkspaceSpec s = Spec();
  s.ingress_class = "nginx";
  s.ingress_tls_secret = "wildcard";
  std::vector<rapidjson::Document> docs;
  docs.push_back(BuildDeployment(s, owner).value());
  docs.push_back(BuildSecret(s, owner, "tok").value());
  docs.push_back(BuildService(s, owner).value());
  docs.push_back(BuildIngress(s, owner).value());
  for (const rapidjson::Document& d : docs) {
    const rapidjson::Value& ref = d["metadata"]["ownerReferences"][0];
    EXPECT_STREQ(ref["apiVersion"].GetString(), "labkube.io/v1alpha1");
    EXPECT_STREQ(ref["kind"].GetString(), "Workspace");
    EXPECT_STREQ(ref["name"].GetString(), "nb");
    EXPECT_STREQ(ref["uid"].GetString(), "uid-1");
    EXPECT_TRUE(ref["controller"].GetBool());
    EXPECT_EQ(json::GetString(d, {"metadata", "labels", "labkube.io/workspace"}), "nb");
    EXPECT_EQ(json::GetString(d, {"metadata", "labels", "app.kubernetes.io/managed-by"}),
              "labkube-gateway");
  }
  rapidjson::Document secret = BuildSecret(s, owner, "tok").value();
  EXPECT_EQ(json::GetString(secret, {"metadata", "name"}), "ws-nb-token");
  EXPECT_EQ(json::GetString(secret, {"stringData", "token"}), "tok");
  rapidjson::Document ing = BuildIngress(s, owner).value();
  EXPECT_EQ(json::GetString(ing, {"spec", "ingressClassName"}), "nginx");
  EXPECT_STREQ(ing["spec"]["tls"][0]["hosts"][0].GetString(), "labkube.local");
  const rapidjson::Value& rule = ing["spec"]["rules"][0];
  EXPECT_STREQ(rule["host"].GetString(), "labkube.local");
  EXPECT_STREQ(rule["http"]["paths"][0]["path"].GetString(), "/alice/nb/");
  EXPECT_EQ(json::GetString(rule["http"]["paths"][0], {"backend", "service", "name"}), "ws-nb");
  s.host.clear();
  EXPECT_FALSE(BuildIngress(s, owner).value()["spec"]["rules"][0].HasMember("host"));
}

TEST(WorkspaceSpecTest, ServiceSelectsTheWorkspacePods) {
  rapidjson::Document svc = BuildService(Spec(), Owner{"nb", "uid-1"}).value();
  EXPECT_EQ(json::GetString(svc, {"apiVersion"}), "v1");
  EXPECT_EQ(json::GetString(svc, {"kind"}), "Service");
  EXPECT_EQ(json::GetString(svc, {"metadata", "name"}), "ws-nb");
  EXPECT_EQ(json::GetString(svc, {"metadata", "namespace"}), "lab-alice");
  EXPECT_EQ(json::GetString(svc, {"spec", "type"}), "ClusterIP");
  EXPECT_EQ(json::GetString(svc, {"spec", "selector", "labkube.io/workspace"}), "nb");
  EXPECT_EQ(json::GetString(svc, {"spec", "selector", "labkube.io/user"}), "alice");
  EXPECT_EQ(svc["spec"]["selector"].MemberCount(), WorkspaceLabels("alice", "nb").size());
  const rapidjson::Value& port = svc["spec"]["ports"][0];
  EXPECT_EQ(json::GetInt(port, {"port"}), 80);
  EXPECT_EQ(json::GetString(port, {"targetPort"}), "http");
}

TEST(WorkspaceSpecTest, SecretIsOpaqueAndHoldsTheToken) {
  rapidjson::Document secret = BuildSecret(Spec(), Owner{"nb", "uid-1"}, "t0k").value();
  EXPECT_EQ(json::GetString(secret, {"kind"}), "Secret");
  EXPECT_EQ(json::GetString(secret, {"type"}), "Opaque");
  EXPECT_EQ(json::GetString(secret, {"metadata", "namespace"}), "lab-alice");
  EXPECT_EQ(json::GetString(secret, {"stringData", "token"}), "t0k");
  EXPECT_TRUE(json::GetBool(secret["metadata"]["ownerReferences"][0], {"controller"}));
  EXPECT_EQ(json::GetString(secret["metadata"]["ownerReferences"][0], {"apiVersion"}), "labkube.io/v1alpha1");
}

TEST(WorkspaceSpecTest, IngressWithoutClassOrTlsHasNeither) {
  rapidjson::Document ing = BuildIngress(Spec(), Owner{"nb", "uid-1"}).value();
  EXPECT_EQ(json::GetString(ing, {"apiVersion"}), "networking.k8s.io/v1");
  EXPECT_FALSE(ing["spec"].HasMember("ingressClassName"));
  EXPECT_FALSE(ing["spec"].HasMember("tls"));
  EXPECT_EQ(json::GetString(ing["spec"]["rules"][0]["http"]["paths"][0], {"pathType"}), "Prefix");
}

// An owner the API server answered without a uid is an error, not an object owned by nothing.
TEST(WorkspaceSpecTest, AnOwnerWithoutUidIsAnError) {
  absl::StatusOr<rapidjson::Document> secret = BuildSecret(Spec(), Owner{"ws-nb", ""}, "tok");
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(secret.status().message().find("ownerReferences[0].uid"), std::string::npos);
  EXPECT_FALSE(BuildService(Spec(), Owner{"ws-nb", ""}).ok());
  EXPECT_FALSE(BuildIngress(Spec(), Owner{"ws-nb", ""}).ok());
  EXPECT_FALSE(BuildDeployment(Spec(), Owner{"nb", ""}).ok());
}

// Values from members are values: quotes, backslashes and `"}` cannot end a string, add a field
// or a label; the text written is valid JSON that reads back to exactly what was given.
TEST(WorkspaceSpecTest, HostileValuesAreEscapedNotSpliced) {
  const std::string evil = R"(x"},"kind":"Pod","spec":{"hostPID":true},"y":{"z":"\")";
  WorkspaceSpec s = Spec();
  s.name = evil;
  s.member = evil + "\\";
  s.image = evil + "\n\u0000";
  s.image_pull_secrets = {evil};
  s.mounts = {{evil, evil, false}};
  s.data_path = evil;
  s.host = evil;
  s.path = evil;
  s.url = evil;
  s.ingress_class = evil;
  s.ingress_tls_secret = evil;
  const Owner owner{evil, evil};
  std::vector<rapidjson::Document> docs;
  docs.push_back(BuildDeployment(s, owner).value());
  docs.push_back(BuildSecret(s, owner, evil).value());
  docs.push_back(BuildService(s, owner).value());
  docs.push_back(BuildIngress(s, owner).value());
  for (const rapidjson::Document& d : docs) {
    absl::StatusOr<rapidjson::Document> back = json::Parse(json::ToString(d));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_NE(json::GetString(*back, {"kind"}), "Pod");
    EXPECT_EQ(json::GetString(*back, {"metadata", "labels", "labkube.io/workspace"}), evil);
    EXPECT_EQ(json::GetString(*back, {"metadata", "labels", "labkube.io/user"}), s.member);
    EXPECT_EQ((*back)["metadata"]["labels"].MemberCount(), 5u);
    EXPECT_EQ(json::Find(*back, {"spec", "hostPID"}), nullptr);
    EXPECT_EQ(json::Find(*back, {"y"}), nullptr);
  }
  const rapidjson::Value& c = docs[0]["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(json::GetString(c, {"image"}), s.image);
  EXPECT_EQ(json::GetString(c["volumeMounts"][0], {"mountPath"}), evil);
  EXPECT_EQ(json::GetString(docs[0], {"metadata", "name"}), "ws-" + evil);
  EXPECT_EQ(json::GetString(docs[1], {"stringData", "token"}), evil);
  EXPECT_EQ(json::GetString(docs[1]["metadata"]["ownerReferences"][0], {"uid"}), evil);
  EXPECT_EQ(json::GetString(docs[3], {"spec", "ingressClassName"}), evil);
  EXPECT_EQ(json::GetString(docs[3]["spec"]["rules"][0], {"host"}), evil);
}

// The digest changes with what the pod would run, and only then.
TEST(WorkspaceSpecTest, DeploymentCarriesTheDigestOfItsSpec) {
  const json::Path digest = {"metadata", "annotations", "labkube.io/workspace-spec"};
  const Owner owner{"nb", "uid-1"};
  WorkspaceSpec s = Spec();
  const std::string first(json::GetString(BuildDeployment(s, owner).value(), digest));
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(json::GetString(BuildDeployment(s, owner).value(), digest), first);
  s.image = "docker.io/me/other:1";
  EXPECT_NE(json::GetString(BuildDeployment(s, owner).value(), digest), first);
}

TEST(WorkspaceSpecTest, RoutesFollowThePatterns) {
  WorkspaceOptions o;
  WorkspaceSpec s;
  s.member = "alice";
  s.ns = "lab-alice";
  s.name = "nb";
  Route(o, s);
  EXPECT_EQ(s.url, "https://labkube.local/alice/nb/");
  o.ingress_host = "";
  o.ingress_path = "ide/{workspace}";
  Route(o, s);
  EXPECT_EQ(s.path, "/ide/nb/");
  EXPECT_EQ(s.url, "/ide/nb/");
  EXPECT_EQ(DefaultImage(o, gw::WORKSPACE_KIND_CODESERVER), o.codeserver_image);
}

TEST(WorkspaceSpecTest, KindsAndTokens) {
  EXPECT_EQ(KindFromName("jupyterlab"), gw::WORKSPACE_KIND_JUPYTERLAB);
  EXPECT_EQ(KindFromName("codeserver"), gw::WORKSPACE_KIND_CODESERVER);
  EXPECT_EQ(KindFromName("vim"), gw::WORKSPACE_KIND_UNSPECIFIED);
  EXPECT_EQ(KindName(gw::WORKSPACE_KIND_CODESERVER), "codeserver");
  std::string a = NewAccessToken();
  EXPECT_EQ(a.size(), 48u);
  EXPECT_NE(a, NewAccessToken());
}

}  // namespace
}  // namespace labkube::gateway
