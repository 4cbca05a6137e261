// Shared fixture for the authenticator cluster tests. Once per suite: applies the
// authenticator's manifests (k8s/authenticator: member roles, RBAC, its two Secrets) to the
// local control plane (LABKUBE_KUBECONFIG), gets a token for the labkube-authenticator
// ServiceAccount, and bootstraps an admin *with those credentials* (so the RBAC is proven
// sufficient). Each test runs its own in-process authenticator (Server::Create with a
// RestClient authenticated as that ServiceAccount; gRPC plaintext on 127.0.0.1:0) and deletes
// the members it created. kubectl (env KUBECTL) checks what issued kubeconfigs may do.
// Process, kubectl and polling helpers come from tests/integration/harness.h.
// Test-only; one fixture per test thread.
#ifndef LABKUBE_TESTS_INTEGRATION_AUTHENTICATOR_AUTH_FIXTURE_H_
#define LABKUBE_TESTS_INTEGRATION_AUTHENTICATOR_AUTH_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "lib/kube/config.h"
#include "lib/kube/rest_client.h"
#include "services/authenticator/server.h"
#include "tests/integration/harness.h"

namespace labkube::authenticator {

namespace api = ::labkube::auth::v1alpha1;

class AuthClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // (Re)starts this test's authenticator with default test options changed by `tweak`.
  void StartServer(const std::function<void(Options&)>& tweak = {});

  grpc::Status Login(const std::string& user, const std::string& password, api::LoginResponse* out,
                     api::KubeconfigForm form = api::KUBECONFIG_FORM_TOKEN);
  grpc::Status Refresh(const std::string& refresh_token, api::RefreshResponse* out);
  std::string AdminToken();
  // Creates a member it::UniqueName(prefix) through the API (as the admin); returns its name.
  std::string NewMember(const std::string& prefix, const std::string& password);
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& bearer = "");

  // kubectl with `kubeconfig` (YAML text) written to a file; `args` after --kubeconfig.
  it::CommandResult Kubectl(const std::string& kubeconfig, const std::vector<std::string>& args);
  // Whether the API server accepts `token` (TokenReview as the cluster admin).
  static bool TokenAccepted(const std::string& token);

  static kube::ClusterConfig admin_config_;
  static std::unique_ptr<kube::RestClient> admin_client_;
  static kube::ClusterConfig self_config_;  // the labkube-authenticator ServiceAccount
  static std::string admin_name_;
  static std::string admin_password_;
  static std::string setup_error_;

  std::unique_ptr<Server> server_;
  std::unique_ptr<api::Authenticator::Stub> stub_;
  std::vector<std::string> created_;  // members to delete afterwards
  int kubeconfig_files_ = 0;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_TESTS_INTEGRATION_AUTHENTICATOR_AUTH_FIXTURE_H_
