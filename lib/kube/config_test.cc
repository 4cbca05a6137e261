#include "lib/kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace labkube::kube {
namespace {

using ::testing::HasSubstr;

constexpr char kCa[] = "-----BEGIN CERTIFICATE-----\nCAAA\n-----END CERTIFICATE-----\n";
constexpr char kCert[] = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
constexpr char kKey[] = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
  }

  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }

  static std::string B64(const std::string& s) { return absl::Base64Escape(s); }

  // A kubeconfig with contexts "a" (cluster ca, user alice) and "b" (cluster cb, user bob).
  std::string Kubeconfig(const std::string& cluster_extra, const std::string& user_extra,
                         const std::string& current = "a") {
    return Write("config", "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
                               "\nclusters:\n"
                               "- name: ca\n  cluster:\n    server: https://127.0.0.1:6443/\n" +
                               cluster_extra +
                               "- name: cb\n  cluster:\n    server: https://10.0.0.1\n"
                               "    insecure-skip-tls-verify: true\n"
                               "contexts:\n"
                               "- name: a\n  context: {cluster: ca, user: alice, namespace: ns1}\n"
                               "- name: b\n  context: {cluster: cb, user: bob}\n"
                               "users:\n"
                               "- name: alice\n  user:\n" +
                               user_extra + "- name: bob\n  user:\n    token: bobtoken\n");
  }

  std::string Error(const std::string& cluster_extra, const std::string& user_extra,
                    const std::string& context = "") {
    auto c = LoadKubeconfig(Kubeconfig(cluster_extra, user_extra), context);
    EXPECT_FALSE(c.ok());
    return c.ok() ? "" : std::string(c.status().message());
  }

  std::string dir_;
};

TEST_F(ConfigTest, InlineData) {
  std::string path = Kubeconfig(
      "    certificate-authority-data: " + B64(kCa) + "\n",
      "    client-certificate-data: " + B64(kCert) + "\n    client-key-data: " + B64(kKey) + "\n");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->client_cert_pem, kCert);
  EXPECT_EQ(c->client_key_pem, kKey);
  EXPECT_EQ(c->default_namespace, "ns1");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
}

TEST_F(ConfigTest, FilesRelativeToKubeconfigDir) {
  std::filesystem::create_directories(dir_ + "/pki");
  Write("pki/ca.crt", kCa);
  Write("pki/client.crt", kCert);
  Write("pki/client.key", kKey);
  Write("token", "filetoken\n");
  auto c = LoadKubeconfig(Kubeconfig("    certificate-authority: pki/ca.crt\n",
                                     "    client-certificate: pki/client.crt\n"
                                     "    client-key: " +
                                         dir_ +
                                         "/pki/client.key\n"
                                         "    tokenFile: token\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->client_cert_pem, kCert);
  EXPECT_EQ(c->client_key_pem, kKey);
  EXPECT_EQ(c->token_file, dir_ + "/token");
}

TEST_F(ConfigTest, NamedContextWithToken) {
  auto c = LoadKubeconfig(Kubeconfig("", "    token: x\n"), "b");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.0.0.1");
  EXPECT_EQ(c->token, "bobtoken");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->default_namespace, "default");
  EXPECT_EQ(c->ca_pem, "");
}

TEST_F(ConfigTest, MissingFile) {
  auto c = LoadKubeconfig(dir_ + "/nope");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("kubeconfig " + dir_ + "/nope: cannot read"));
}

TEST_F(ConfigTest, InvalidYaml) {
  auto c = LoadKubeconfig(Write("bad", "clusters: [\n  - {name: x\n"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("invalid YAML at line"));
  auto d = LoadKubeconfig(Write("list", "- a\n- b\n"));
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("top level is not a map"));
}

TEST_F(ConfigTest, ContextNotFoundListsContexts) {
  std::string path = Kubeconfig("", "");
  auto c = LoadKubeconfig(path, "foo");
  EXPECT_EQ(c.status().message(),
            "kubeconfig " + path + ": context \"foo\" not found (contexts: a, b)");
}

TEST_F(ConfigTest, NoCurrentContext) {
  std::string path = Write("nocur", "clusters: []\ncontexts: []\n");
  auto c = LoadKubeconfig(path);
  EXPECT_EQ(c.status().message(),
            "kubeconfig " + path + ": current-context: not set and no context was given");
}

TEST_F(ConfigTest, MissingClusterAndUser) {
  std::string path = Write("refs",
                           "current-context: x\ncontexts:\n"
                           "- name: x\n  context: {cluster: gone, user: nobody}\n"
                           "clusters:\n- name: c1\n  cluster: {server: https://h}\n");
  auto c = LoadKubeconfig(path);
  EXPECT_EQ(c.status().message(),
            "kubeconfig " + path +
                ": contexts[x].context.cluster: cluster \"gone\" not found (clusters: c1)");
  std::string path2 = Write("refs2",
                            "current-context: x\ncontexts:\n"
                            "- name: x\n  context: {cluster: c1, user: nobody}\n"
                            "clusters:\n- name: c1\n  cluster: {server: https://h}\n");
  EXPECT_EQ(LoadKubeconfig(path2).status().message(),
            "kubeconfig " + path2 +
                ": contexts[x].context.user: user \"nobody\" not found (users: none)");
}

TEST_F(ConfigTest, BadFields) {
  EXPECT_EQ(
      Error("", "    client-certificate-data: '%%%'\n    client-key-data: " + B64(kKey) + "\n"),
      "kubeconfig " + dir_ +
          "/config: users[alice].user.client-certificate-data: not valid base64");
  EXPECT_THAT(Error("    certificate-authority-data: " + B64("hello") + "\n", ""),
              HasSubstr("clusters[ca].cluster.certificate-authority-data: decoded data is not "
                        "PEM"));
  EXPECT_THAT(Error("    certificate-authority: missing.crt\n", ""),
              HasSubstr("clusters[ca].cluster.certificate-authority: cannot read " + dir_ +
                        "/missing.crt: No such file or directory"));
  EXPECT_THAT(Error("", "    client-certificate-data: " + B64(kCert) + "\n"),
              HasSubstr("users[alice].user: client-certificate given without client-key"));
  EXPECT_THAT(Error("", "    tokenFile: nofile\n"),
              HasSubstr("users[alice].user.tokenFile: cannot read"));
  EXPECT_THAT(Error("", "    exec: {command: foo}\n"),
              HasSubstr("users[alice].user: exec and auth-provider credential plugins are not "
                        "supported"));
  EXPECT_THAT(Error("    insecure-skip-tls-verify: maybe\n", ""),
              HasSubstr("clusters[ca].cluster.insecure-skip-tls-verify: must be true or false"));
  EXPECT_THAT(Error("", "    token: [a, b]\n"), HasSubstr("users[alice].user.token: must be a "
                                                          "string"));
}

TEST_F(ConfigTest, BadServer) {
  std::string path = Write("srv",
                           "current-context: x\ncontexts:\n"
                           "- name: x\n  context: {cluster: c}\n"
                           "clusters:\n- name: c\n  cluster: {server: ftp://h}\n"
                           "- name: d\n  cluster: {}\n");
  EXPECT_THAT(std::string(LoadKubeconfig(path).status().message()),
              HasSubstr("clusters[c].cluster.server: \"ftp://h\" is not an http(s) URL"));
}

class FakeEnv {
 public:
  std::map<std::string, std::string> vars;
  ConfigEnvironment Env(const std::string& sa_dir) {
    ConfigEnvironment env;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    env.service_account_dir = sa_dir;
    return env;
  }
};

TEST_F(ConfigTest, InCluster) {
  std::filesystem::create_directories(dir_ + "/sa");
  Write("sa/token", "satoken");
  Write("sa/ca.crt", kCa);
  Write("sa/namespace", "team-a\n");
  FakeEnv env;
  env.vars = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  auto c = LoadInCluster(env.Env(dir_ + "/sa"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, dir_ + "/sa/token");
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->default_namespace, "team-a");

  env.vars["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  EXPECT_EQ(LoadInCluster(env.Env(dir_ + "/sa"))->server, "https://[fd00::1]:443");

  auto missing = LoadInCluster(env.Env(dir_ + "/nosa"));
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("in-cluster: cannot read " + dir_ + "/nosa/token"));
  env.vars.clear();
  EXPECT_EQ(LoadInCluster(env.Env(dir_ + "/sa")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConfigTest, DefaultOrder) {
  std::string path = Kubeconfig("", "    token: fromfile\n");
  std::filesystem::create_directories(dir_ + "/sa");
  Write("sa/token", "t");
  Write("sa/ca.crt", kCa);
  FakeEnv env;
  env.vars = {{"KUBECONFIG", path + ":/other"},
              {"KUBERNETES_SERVICE_HOST", "10.0.0.9"},
              {"KUBERNETES_SERVICE_PORT", "6443"},
              {"HOME", dir_ + "/home"}};
  EXPECT_EQ(LoadDefault(env.Env(dir_ + "/sa"))->token, "fromfile");
  env.vars.erase("KUBECONFIG");
  EXPECT_EQ(LoadDefault(env.Env(dir_ + "/sa"))->server, "https://10.0.0.9:6443");
  env.vars.erase("KUBERNETES_SERVICE_HOST");
  auto none = LoadDefault(env.Env(dir_ + "/sa"));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr(dir_ + "/home/.kube/config does not exist"));
  std::filesystem::create_directories(dir_ + "/home/.kube");
  std::filesystem::copy_file(path, dir_ + "/home/.kube/config");
  EXPECT_EQ(LoadDefault(env.Env(dir_ + "/sa"))->token, "fromfile");
}

}  // namespace
}  // namespace labkube::kube
