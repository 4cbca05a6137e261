#include "clients/cli/config_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <map>

#include "gtest/gtest.h"

namespace labkube::cli {
namespace {

std::string TmpDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return std::string(base != nullptr ? base : "/tmp") + "/" + name;
}

int Mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

Getenv Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ConfigStoreTest, DefaultDirPrecedence) {
  EXPECT_EQ(*ConfigStore::DefaultDir(Env({{"LABKUBE_CONFIG_DIR", "/x"}, {"HOME", "/h"}})), "/x");
  EXPECT_EQ(*ConfigStore::DefaultDir(
                Env({{"LABCTL_CONFIG_DIR", "/y"}, {"LABKUBE_CONFIG_DIR", "/x"}, {"HOME", "/h"}})),
            "/y");
  EXPECT_EQ(*ConfigStore::DefaultDir(Env({{"XDG_CONFIG_HOME", "/c"}, {"HOME", "/h"}})),
            "/c/labkube");
  EXPECT_EQ(*ConfigStore::DefaultDir(Env({{"HOME", "/h"}})), "/h/.config/labkube");
  EXPECT_FALSE(ConfigStore::DefaultDir(Env({})).ok());
}

TEST(ConfigStoreTest, RoundTripsWithPrivateFiles) {
  ConfigStore store(TmpDir("cfg-roundtrip/nested"));
  EXPECT_TRUE(absl::IsNotFound(store.LoadConfig().status()));
  EXPECT_TRUE(absl::IsNotFound(store.LoadCredentials().status()));
  ASSERT_TRUE(store.SaveConfig({"gw:443", "/ca.crt", false, "alice", "lab-alice"}).ok());
  Credentials c{"alice", "access", absl::FromUnixSeconds(1700000000), "refresh",
                absl::FromUnixSeconds(1700086400)};
  ASSERT_TRUE(store.SaveCredentials(c).ok());
  EXPECT_EQ(Mode(store.credentials_path()), 0600);
  EXPECT_EQ(Mode(store.config_path()), 0600);
  EXPECT_EQ(Mode(store.dir()), 0700);
  absl::StatusOr<Config> config = store.LoadConfig();
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->server, "gw:443");
  EXPECT_EQ(config->ca_file, "/ca.crt");
  EXPECT_EQ(config->ns, "lab-alice");
  absl::StatusOr<Credentials> loaded = store.LoadCredentials();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->access_token, "access");
  EXPECT_EQ(loaded->access_expiry, c.access_expiry);
  EXPECT_EQ(loaded->refresh_expiry, c.refresh_expiry);
  ASSERT_TRUE(store.DeleteCredentials().ok());
  EXPECT_TRUE(absl::IsNotFound(store.LoadCredentials().status()));
  EXPECT_TRUE(store.DeleteCredentials().ok());
}

TEST(ConfigStoreTest, TightensLooseCredentialsAndReportsDamage) {
  ConfigStore store(TmpDir("cfg-loose"));
  ASSERT_TRUE(
      store.SaveCredentials({"a", "t", absl::InfinitePast(), "", absl::InfinitePast()}).ok());
  chmod(store.credentials_path().c_str(), 0644);
  ASSERT_TRUE(store.LoadCredentials().ok());
  EXPECT_EQ(Mode(store.credentials_path()), 0600);
  ASSERT_TRUE(WriteFileAtomically(store.config_path(), "{not json", 0600).ok());
  absl::StatusOr<Config> damaged = store.LoadConfig();
  EXPECT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("is damaged"), std::string::npos);
}

}  // namespace
}  // namespace labkube::cli
