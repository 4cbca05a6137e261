#include "services/authenticator/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace labkube::authenticator {
namespace {

KubeconfigParams Params(CredentialForm form) {
  KubeconfigParams p;
  p.server = "https://lab.example:6443";
  p.ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  p.user = "alice";
  p.ns = "lab-alice";
  p.form = form;
  p.token = "eyJ.token.sig";
  return p;
}

TEST(KubeconfigTest, TokenForm) {
  YAML::Node k = YAML::Load(RenderKubeconfig(Params(CredentialForm::kToken)));
  EXPECT_EQ(k["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(k["kind"].as<std::string>(), "Config");
  EXPECT_EQ(k["current-context"].as<std::string>(), "alice@labkube");
  const YAML::Node& cluster = k["clusters"][0];
  EXPECT_EQ(cluster["name"].as<std::string>(), "labkube");
  EXPECT_EQ(cluster["cluster"]["server"].as<std::string>(), "https://lab.example:6443");
  std::string ca;
  ASSERT_TRUE(absl::Base64Unescape(
      cluster["cluster"]["certificate-authority-data"].as<std::string>(), &ca));
  EXPECT_EQ(ca, Params(CredentialForm::kToken).ca_pem);
  const YAML::Node& context = k["contexts"][0];
  EXPECT_EQ(context["name"].as<std::string>(), "alice@labkube");
  EXPECT_EQ(context["context"]["namespace"].as<std::string>(), "lab-alice");
  EXPECT_EQ(context["context"]["cluster"].as<std::string>(), "labkube");
  EXPECT_EQ(context["context"]["user"].as<std::string>(), "alice@labkube");
  const YAML::Node& user = k["users"][0];
  EXPECT_EQ(user["name"].as<std::string>(), "alice@labkube");
  EXPECT_EQ(user["user"]["token"].as<std::string>(), "eyJ.token.sig");
  EXPECT_FALSE(user["user"]["exec"]);
}

TEST(KubeconfigTest, ExecForm) {
  YAML::Node k = YAML::Load(RenderKubeconfig(Params(CredentialForm::kExec)));
  const YAML::Node& user = k["users"][0]["user"];
  EXPECT_FALSE(user["token"]);
  const YAML::Node& exec = user["exec"];
  EXPECT_EQ(exec["apiVersion"].as<std::string>(), "client.authentication.k8s.io/v1");
  EXPECT_EQ(exec["command"].as<std::string>(), "labctl");
  ASSERT_EQ(exec["args"].size(), 1u);
  EXPECT_EQ(exec["args"][0].as<std::string>(), "credential");
  EXPECT_EQ(exec["interactiveMode"].as<std::string>(), "Never");
}

TEST(KubeconfigTest, NoCaMeansNoCaField) {
  KubeconfigParams p = Params(CredentialForm::kToken);
  p.ca_pem.clear();
  YAML::Node k = YAML::Load(RenderKubeconfig(p));
  EXPECT_FALSE(k["clusters"][0]["cluster"]["certificate-authority-data"]);
}

}  // namespace
}  // namespace labkube::authenticator
