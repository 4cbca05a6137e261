#include "lib/service/kube_client.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/test_certs.h"

namespace labkube::service {
namespace {

using ::testing::HasSubstr;

std::string WriteKubeconfig(const std::string& name, const std::string& server) {
  std::string path = labkube::testing::TestTmpDir() + "/" + name;
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
                         "clusters:\n- name: c\n  cluster:\n    server: "
                      << server
                      << "\n    insecure-skip-tls-verify: true\n"
                         "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
                         "users:\n- name: u\n  user:\n    token: t\n";
  return path;
}

TEST(KubeClient, FromTheNamedKubeconfig) {
  std::string path = WriteKubeconfig("config", "https://127.0.0.1:6443");
  absl::StatusOr<kube::ClusterConfig> config = LoadClusterConfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  absl::StatusOr<std::unique_ptr<kube::Client>> client = NewKubeClient(path);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_NE(*client, nullptr);
}

TEST(KubeClient, AMissingKubeconfigIsNamed) {
  std::string path = labkube::testing::TestTmpDir() + "/nope";
  absl::StatusOr<std::unique_ptr<kube::Client>> client = NewKubeClient(path);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr(path));
}

}  // namespace
}  // namespace labkube::service
