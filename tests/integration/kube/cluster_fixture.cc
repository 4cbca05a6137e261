#include "tests/integration/kube/cluster_fixture.h"

#include <cstdlib>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"

namespace labkube::kube {

void ClusterTest::SetUp() {
  const char* kubeconfig = std::getenv("LABKUBE_KUBECONFIG");
  ASSERT_TRUE(kubeconfig != nullptr && *kubeconfig != '\0')
      << "LABKUBE_KUBECONFIG is not set: this test needs the local control plane. Run "
         "`tests/cluster/cluster.sh up` and pass LABKUBE_KUBECONFIG=<the kubeconfig it prints> "
         "to `bazel test --config=cluster`.";
  absl::StatusOr<ClusterConfig> config = LoadKubeconfig(kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status();
  config_ = *config;
  client_ = NewClient(config_);
  ASSERT_NE(client_, nullptr);
  absl::BitGen gen;
  ns_ = absl::StrCat("it-kube-", absl::Uniform<uint32_t>(gen, 0, 1u << 30));
  auto created =
      client_->Create(resources::Namespaces(), "", json::NewObject("v1", "Namespace", "", ns_));
  ASSERT_TRUE(created.ok()) << created.status();
}

void ClusterTest::TearDown() {
  if (client_ == nullptr || ns_.empty()) return;
  DeleteOptions o;
  o.propagation_policy = "Background";
  absl::Status s = client_->Delete(resources::Namespaces(), "", ns_, o);
  EXPECT_TRUE(s.ok()) << s;
}

std::unique_ptr<RestClient> ClusterTest::NewClient(const ClusterConfig& config) {
  auto client = RestClient::Create(config);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

rapidjson::Document ConfigMapObject(const std::string& ns, const std::string& name,
                                    const std::map<std::string, std::string>& data) {
  rapidjson::Document doc = json::NewObject("v1", "ConfigMap", ns, name);
  json::SetPath(doc, {"data"}, rapidjson::Value(rapidjson::kObjectType), doc.GetAllocator());
  for (const auto& [k, v] : data) json::SetString(doc, {"data", k}, v);
  return doc;
}

}  // namespace labkube::kube
