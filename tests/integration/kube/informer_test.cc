// Informer against the real kube-apiserver of the local cluster (tests/cluster/cluster.sh):
// events arrive in order, and the watch survives a kube-apiserver restart.
#include "lib/kube/informer.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lib/kube/config.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/rest_client.h"
#include "lib/testing/wait_until.h"

namespace labkube::kube {
namespace {

using labkube::testing::WaitUntil;

constexpr char kLabel[] = "labkube.io/test";

// LABKUBE_CLUSTER_SH, else the real file behind the runfiles symlink of the data dependency
// (the script must run from the workspace, where it finds its siblings and its state).
std::string ClusterScript() {
  if (const char* env = std::getenv("LABKUBE_CLUSTER_SH"); env != nullptr && *env != '\0') {
    return env;
  }
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return "";
  std::error_code error;
  std::filesystem::path real = std::filesystem::canonical(
      std::filesystem::path(srcdir) / workspace / "tests/cluster/cluster.sh", error);
  return error ? "" : real.string();
}

// Records handler calls as "add NAME", "update NAME", "delete NAME".
class Recorder {
 public:
  EventHandlers Handlers() {
    return {
        .on_add = [this](const ObjectPtr& o) { Record("add", *o); },
        .on_update = [this](const ObjectPtr&, const ObjectPtr& o) { Record("update", *o); },
        .on_delete = [this](const ObjectPtr& o) { Record("delete", *o); },
    };
  }
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  void Record(const char* what, const rapidjson::Value& o) {
    absl::MutexLock lock(&mu_);
    events_.push_back(
        absl::StrCat(what, " ", std::string(json::GetString(o, {"metadata", "name"}))));
  }
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class InformerClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kubeconfig = std::getenv("LABKUBE_KUBECONFIG");
    ASSERT_NE(kubeconfig, nullptr)
        << "LABKUBE_KUBECONFIG is not set: run tests/cluster/cluster.sh up";
    absl::StatusOr<ClusterConfig> config = LoadKubeconfig(kubeconfig);
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<std::unique_ptr<RestClient>> client = RestClient::Create(*config);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    absl::BitGen random;
    ns_ = absl::StrCat("lk-informer-", absl::Uniform<uint32_t>(random));
    rapidjson::Document ns = json::NewObject("v1", "Namespace", "", ns_);
    // Retried briefly: the API server may be coming back from a restart by another test.
    absl::Status created;
    ASSERT_TRUE(WaitUntil(
        [&] {
          created = client_->Create(resources::Namespaces(), "", ns).status();
          return created.ok() || created.code() != absl::StatusCode::kUnavailable;
        },
        absl::Seconds(30)));
    ASSERT_TRUE(created.ok()) << created;
    ReflectorOptions options;
    options.ns = ns_;
    options.label_selector = absl::StrCat(kLabel, "=informer");
    informer_ = std::make_unique<Informer>(*client_, resources::ConfigMaps(), options);
    informer_->AddEventHandlers(recorder_.Handlers());
    informer_->Start();
    ASSERT_TRUE(informer_->WaitForSync(absl::Now() + absl::Seconds(30)));
  }

  void TearDown() override {
    if (informer_ != nullptr) informer_->Stop();
    if (client_ != nullptr && !ns_.empty()) {
      client_->Delete(resources::Namespaces(), "", ns_).IgnoreError();
    }
  }

  absl::Status CreateConfigMap(std::string_view name) {
    rapidjson::Document cm = json::NewObject("v1", "ConfigMap", ns_, name);
    json::SetString(cm, {"metadata", "labels", kLabel}, "informer");
    json::SetString(cm, {"data", "step"}, "created");
    return client_->Create(resources::ConfigMaps(), ns_, cm).status();
  }

  bool WaitForEvents(const std::vector<std::string>& expected, absl::Duration timeout) {
    return WaitUntil([&] { return recorder_.events() == expected; }, timeout);
  }

  std::unique_ptr<RestClient> client_;
  std::string ns_;
  Recorder recorder_;
  std::unique_ptr<Informer> informer_;
};

TEST_F(InformerClusterTest, SeesAddModifyDeleteInOrder) {
  ASSERT_TRUE(CreateConfigMap("a").ok());
  ASSERT_TRUE(client_
                  ->Patch(resources::ConfigMaps(), ns_, "a", PatchType::kMergePatch,
                          R"({"data":{"step":"patched"}})")
                  .ok());
  ASSERT_TRUE(client_->Delete(resources::ConfigMaps(), ns_, "a").ok());
  EXPECT_TRUE(WaitForEvents({"add a", "update a", "delete a"}, absl::Seconds(30)))
      << absl::StrJoin(recorder_.events(), ", ");
  EXPECT_EQ(informer_->Get(ns_, "a"), nullptr);
}

TEST_F(InformerClusterTest, WatchSurvivesApiserverRestart) {
  std::string script = ClusterScript();
  ASSERT_FALSE(script.empty()) << "cluster.sh not found: set LABKUBE_CLUSTER_SH";
  ASSERT_TRUE(CreateConfigMap("before").ok());
  ASSERT_TRUE(WaitForEvents({"add before"}, absl::Seconds(30)));

  int rc = std::system(absl::StrCat("'", script, "' restart-apiserver").c_str());
  ASSERT_EQ(rc, 0) << script << " restart-apiserver failed";

  // The server is ready again; a connection of the old server may still fail once.
  absl::Status created;
  ASSERT_TRUE(
      WaitUntil([&] { return (created = CreateConfigMap("after")).ok(); }, absl::Seconds(30)))
      << created;
  // The reflector reconnects (with backoff of at most 30 s), resuming or relisting.
  EXPECT_TRUE(WaitForEvents({"add before", "add after"}, absl::Seconds(90)))
      << absl::StrJoin(recorder_.events(), ", ") << "; last error: " << informer_->LastError();
  EXPECT_NE(informer_->Get(ns_, "before"), nullptr);
  EXPECT_NE(informer_->Get(ns_, "after"), nullptr);
}

}  // namespace
}  // namespace labkube::kube
