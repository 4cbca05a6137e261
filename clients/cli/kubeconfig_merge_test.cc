#include "clients/cli/kubeconfig_merge.h"

#include <yaml-cpp/yaml.h>

#include <map>

#include "gtest/gtest.h"

namespace labkube::cli {
namespace {

const char kIncoming[] = R"(apiVersion: v1
kind: Config
clusters: [{name: labkube, cluster: {server: "https://new:6443"}}]
users: [{name: alice@labkube, user: {token: t}}]
contexts: [{name: alice@labkube, context: {cluster: labkube, user: alice@labkube}}]
current-context: alice@labkube
)";

TEST(KubeconfigMergeTest, IntoNothing) {
  absl::StatusOr<std::string> merged = MergeKubeconfig("", kIncoming);
  ASSERT_TRUE(merged.ok()) << merged.status();
  YAML::Node n = YAML::Load(*merged);
  EXPECT_EQ(n["current-context"].as<std::string>(), "alice@labkube");
  EXPECT_EQ(n["clusters"].size(), 1u);
}

TEST(KubeconfigMergeTest, ReplacesSameNamesKeepsOthers) {
  const char existing[] = R"(apiVersion: v1
kind: Config
clusters: [{name: labkube, cluster: {server: "https://old:6443"}}, {name: other, cluster: {server: "https://o"}}]
users: [{name: bob, user: {token: b}}]
contexts: [{name: other, context: {cluster: other, user: bob}}]
current-context: other
preferences: {}
)";
  absl::StatusOr<std::string> merged = MergeKubeconfig(existing, kIncoming);
  ASSERT_TRUE(merged.ok()) << merged.status();
  YAML::Node n = YAML::Load(*merged);
  ASSERT_EQ(n["clusters"].size(), 2u);
  EXPECT_EQ(n["clusters"][0]["name"].as<std::string>(), "other");
  EXPECT_EQ(n["clusters"][1]["cluster"]["server"].as<std::string>(), "https://new:6443");
  EXPECT_EQ(n["users"].size(), 2u);
  EXPECT_EQ(n["contexts"].size(), 2u);
  EXPECT_EQ(n["current-context"].as<std::string>(), "alice@labkube");
  EXPECT_TRUE(n["preferences"]);
}

TEST(KubeconfigMergeTest, RejectsGarbage) {
  EXPECT_FALSE(MergeKubeconfig("- a\n- b\n", kIncoming).ok());
  EXPECT_FALSE(MergeKubeconfig("", "{{{").ok());
}

TEST(SetExecEnvTest, AddsOrReplacesTheVariableOfEveryExecUser) {
  const char* kExec = R"(apiVersion: v1
kind: Config
users:
  - name: alice@labkube
    user:
      exec:
        command: labctl
        args: [credential]
        env: [{name: LABCTL_CONFIG_DIR, value: /old}, {name: OTHER, value: x}]
  - name: tokens
    user: {token: abc}
)";
  absl::StatusOr<std::string> out = SetExecEnv(kExec, "LABCTL_CONFIG_DIR", "/home/a/lab");
  ASSERT_TRUE(out.ok()) << out.status();
  YAML::Node n = YAML::Load(*out);
  YAML::Node env = n["users"][0]["user"]["exec"]["env"];
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0]["name"].as<std::string>(), "OTHER");
  EXPECT_EQ(env[1]["value"].as<std::string>(), "/home/a/lab");
  EXPECT_FALSE(n["users"][1]["user"]["exec"]);
  EXPECT_EQ(n["users"][0]["user"]["exec"]["command"].as<std::string>(), "labctl");
  EXPECT_FALSE(SetExecEnv("- a\n", "X", "y").ok());
}

TEST(KubeconfigMergeTest, DefaultPath) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  };
  EXPECT_EQ(DefaultKubeconfigPath(env({{"KUBECONFIG", "/a:/b"}, {"HOME", "/h"}})), "/a");
  EXPECT_EQ(DefaultKubeconfigPath(env({{"HOME", "/h"}})), "/h/.kube/config");
}

}  // namespace
}  // namespace labkube::cli
