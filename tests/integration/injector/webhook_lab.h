// WebhookLabTest: the base gtest fixture of the injector integration tests: the real
// kube-apiserver of the local control plane (tests/cluster/cluster.sh) calling a webhook served by
// a local process over HTTPS. Each test gets
//   - a CA and a serving certificate for IP 127.0.0.1 made with the openssl command line in
//     $TEST_TMPDIR (certs()),
//   - RegisterWebhook(port): the webhook of k8s/injector/webhook.yaml (same rules, selectors,
//     failure policy, timeout) registered under a name unique to the run, pointed by URL at
//     https://127.0.0.1:<port>/mutate-pods with the test CA as caBundle,
//   - namespaces (CreateNamespace), labelled labkube.io/inject-resource=enabled or not,
//   - kubectl helpers that keep the exit code and output (denials are expected results here).
// TearDown ALWAYS deletes the webhook configuration first (with failurePolicy Fail a leftover
// would refuse the guest pods of every later test), then the namespaces. SetUp deletes the
// webhook configurations and namespaces that crashed runs of these tests left behind (label
// labkube-it=injector), and refuses the shared lab of `./dev.sh up` and clusters where another
// injector webhook is registered (it would be called for our guest pods too).
//
// Test-only; one fixture per test, used from the test's main thread.
#ifndef LABKUBE_TESTS_INTEGRATION_INJECTOR_WEBHOOK_LAB_H_
#define LABKUBE_TESTS_INTEGRATION_INJECTOR_WEBHOOK_LAB_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "lib/kube/rest_client.h"
#include "rapidjson/document.h"
#include "tests/integration/harness.h"

namespace labkube::it {

inline constexpr char kItLabel[] = "labkube-it";  // value "injector" on everything we create
inline constexpr char kItValue[] = "injector";
inline constexpr char kEnableLabel[] = "labkube.io/inject-resource";
inline constexpr char kWebhookName[] = "injector.labkube.io";  // webhooks[0].name
inline constexpr char kPauseImage[] = "registry.k8s.io/pause:3.10";
inline constexpr absl::Duration kConverge = absl::Seconds(45);

struct ServingCerts {
  std::string ca_file;    // PEM CA (what caBundle and clients trust)
  std::string cert_file;  // serving certificate for IP:127.0.0.1, DNS:localhost, signed by the CA
  std::string key_file;
};

// Makes the CA and serving certificate in `dir` with the openssl command line.
absl::StatusOr<ServingCerts> MakeServingCerts(const std::string& dir);

// Writes `text` to a new file in $TEST_TMPDIR; its path.
std::string WriteTestFile(const std::string& name, const std::string& text);

// kubectl --kubeconfig=<cluster> args... with the exit code and output (no error on exit != 0).
CommandResult RunKubectl(const std::vector<std::string>& args,
                         absl::Duration timeout = absl::Seconds(60));

// A guest pod manifest: labels labkube.io/pod-role=guest + group + type, one pause container
// "main" without resources, grace period 0.
std::string GuestPodYaml(const std::string& ns, const std::string& name, const std::string& group,
                         const std::string& type);

// metadata.labels / annotations of an object.
std::map<std::string, std::string> Labels(const rapidjson::Value& obj);
std::map<std::string, std::string> Annotations(const rapidjson::Value& obj);

class WebhookLabTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Registers the webhook pointed at https://127.0.0.1:<port>/mutate-pods (see above).
  void RegisterWebhook(int port);
  // Deletes the registered webhook configuration (idempotent; a failure fails the test).
  void DeleteWebhook();
  // A new configuration reaches the API server's webhook cache a moment after it is created:
  // polls a server-side dry-run create of guest pod "webhook-probe" of group/type in `ns` until
  // `answered(result)` says the webhook took part.
  ::testing::AssertionResult WaitWebhookActive(
      const std::string& ns, const std::string& group, const std::string& type,
      const std::function<bool(const CommandResult&)>& answered,
      absl::Duration timeout = absl::Seconds(30));

  // Creates namespace "<prefix>-<random>" (labelled for cleanup; `enabled` adds
  // labkube.io/inject-resource=enabled) and waits for its default ServiceAccount.
  std::string CreateNamespace(const std::string& prefix, bool enabled);

  // `kubectl create -f <yaml> -o json [extra...]`.
  CommandResult KubectlCreate(const std::string& yaml, const std::vector<std::string>& extra = {});
  // The created object of a successful KubectlCreate (fails the test otherwise).
  rapidjson::Document CreatedObject(const CommandResult& r);

  absl::StatusOr<rapidjson::Document> GetPod(const std::string& ns, const std::string& name);

  const ServingCerts& certs() const { return certs_; }

  std::unique_ptr<kube::RestClient> client_;
  std::string webhook_;  // metadata.name of the registered configuration; "" when none

 private:
  void RefuseSharedLab();
  void RefuseForeignWebhooks();
  void DeleteLeftovers();
  void DeleteNamespace(const std::string& ns);

  ServingCerts certs_;
  std::vector<std::string> namespaces_;
};

}  // namespace labkube::it

#endif  // LABKUBE_TESTS_INTEGRATION_INJECTOR_WEBHOOK_LAB_H_
