// Shared fixture for the lib/kube cluster tests: a RestClient for the local control plane
// (LABKUBE_KUBECONFIG; a missing cluster is a test failure, not a skip) and a fresh namespace per
// test, deleted afterwards. Test-only; one fixture per test thread.
#ifndef LABKUBE_TESTS_INTEGRATION_KUBE_CLUSTER_FIXTURE_H_
#define LABKUBE_TESTS_INTEGRATION_KUBE_CLUSTER_FIXTURE_H_

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lib/kube/config.h"
#include "lib/kube/rest_client.h"
#include "rapidjson/document.h"

namespace labkube::kube {

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new RestClient for the cluster (e.g. with other credentials).
  std::unique_ptr<RestClient> NewClient(const ClusterConfig& config);

  ClusterConfig config_;
  std::unique_ptr<RestClient> client_;
  std::string ns_;  // created for this test
};

// {"apiVersion":"v1","kind":"ConfigMap","metadata":{name, namespace},"data":{...}}
rapidjson::Document ConfigMapObject(const std::string& ns, const std::string& name,
                                    const std::map<std::string, std::string>& data);

}  // namespace labkube::kube

#endif  // LABKUBE_TESTS_INTEGRATION_KUBE_CLUSTER_FIXTURE_H_
