// labkube makes its own certificates: the real scheduler binary with --manage_certificates
// against the real API server creates the CA, every service's Secret, the CA ConfigMap and the
// webhook's caBundle, serves from its own files, and repairs what is deleted or damaged within
// a few seconds (the leader checks every 5 s).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "tests/integration/scheduler/scheduler_lab.h"

namespace labkube::it {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

constexpr const char* kSecrets[] = {"labkube-ca", "labkube-scheduler-tls", "labkube-injector-tls",
                                    "labkube-authenticator-tls", "labkube-gateway-tls"};

std::string Field(const rapidjson::Value& secret, const char* key) {
  std::string out;
  absl::Base64Unescape(std::string(json::GetString(secret, {"data", key})), &out);
  return out;
}

class CertificatesTest : public SchedulerLabTest {
 protected:
  void SetUp() override {
    SchedulerLabTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ns_ = UniqueName("it-certs");
    webhook_ = ns_;
    ASSERT_TRUE(client_->Create(res::Namespaces(), "", json::NewObject("v1", "Namespace", "", ns_)).ok());
    // A webhook that matches nothing (no namespace carries the label), only to hold a caBundle.
    auto mwc = json::Parse(absl::StrCat(R"({"apiVersion":"admissionregistration.k8s.io/v1",
      "kind":"MutatingWebhookConfiguration","metadata":{"name":")", webhook_, R"("},
      "webhooks":[{"name":"pods.certs.it.labkube.io","admissionReviewVersions":["v1"],
        "sideEffects":"None","failurePolicy":"Ignore",
        "namespaceSelector":{"matchLabels":{"it.labkube.io/never":"true"}},
        "clientConfig":{"url":"https://127.0.0.1:1/mutate"},
        "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}]}]})"));
    ASSERT_TRUE(mwc.ok());
    ASSERT_TRUE(client_->Create(res::MutatingWebhookConfigurations(), "", *mwc).ok());
    dir_ = absl::StrCat(std::getenv("TEST_TMPDIR"), "/certs");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!ns_.empty()) {
      (void)client_->Delete(res::MutatingWebhookConfigurations(), "", webhook_);
      (void)client_->Delete(res::Namespaces(), "", ns_);
    }
    SchedulerLabTest::TearDown();
  }

  SchedulerFlags Flags() {
    SchedulerFlags f;
    f.leader_elect = false;
    f.extra_args = {"--manage_certificates", absl::StrCat("--certificate_dir=", dir_),
                    absl::StrCat("--certificate_namespace=", ns_),
                    absl::StrCat("--webhook_configuration=", webhook_)};
    return f;
  }
  absl::StatusOr<rapidjson::Document> Secret(const std::string& name) {
    return client_->Get(res::Secrets(), ns_, name);
  }
  std::string CaBundle() {
    auto mwc = client_->Get(res::MutatingWebhookConfigurations(), "", webhook_);
    return mwc.ok() ? std::string(json::GetString((*mwc)["webhooks"][0], {"clientConfig", "caBundle"}))
                    : "";
  }
  std::string File(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string ns_, webhook_, dir_;
};

TEST_F(CertificatesTest, TheSchedulerMakesAndRepairsLabkubesCertificates) {
  SchedulerProcess* s = StartScheduler("certs", Flags());
  ASSERT_NE(s, nullptr);
  for (const char* name : kSecrets) {
    ASSERT_TRUE(Secret(name).ok()) << name << " was not made";
  }
  std::string ca = Field(*Secret("labkube-ca"), "ca.crt");
  auto cm = client_->Get(res::ConfigMaps(), ns_, "labkube-ca");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(json::GetString(*cm, {"data", "ca.crt"}), ca);
  EXPECT_TRUE(WaitFor([&] { return CaBundle() == absl::Base64Escape(ca); }, absl::Seconds(15)))
      << "the webhook's caBundle";
  rapidjson::Document own = *Secret("labkube-scheduler-tls");
  EXPECT_EQ(File("tls.crt"), Field(own, "tls.crt"));
  EXPECT_EQ(File("tls.key"), Field(own, "tls.key"));
  EXPECT_EQ(File("ca.crt"), ca);

  // The webhook's serving Secret deleted, its caBundle overwritten: both repaired in seconds,
  // with the same CA (so peers that trust it keep working).
  rapidjson::Document old_injector = *Secret("labkube-injector-tls");
  ASSERT_TRUE(client_->Delete(res::Secrets(), ns_, "labkube-injector-tls").ok());
  ASSERT_TRUE(client_->Patch(res::MutatingWebhookConfigurations(), "", webhook_,
                             kube::PatchType::kJsonPatch,
                             R"([{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"eA=="}])")
                  .ok());
  EXPECT_TRUE(WaitFor([&] { return Secret("labkube-injector-tls").ok(); }, absl::Seconds(15)));
  EXPECT_TRUE(WaitFor([&] { return CaBundle() == absl::Base64Escape(ca); }, absl::Seconds(15)));
  rapidjson::Document injector = *Secret("labkube-injector-tls");
  EXPECT_NE(Field(injector, "tls.crt"), Field(old_injector, "tls.crt"));
  EXPECT_EQ(Field(injector, "ca.crt"), ca);
  EXPECT_EQ(Field(*Secret("labkube-ca"), "ca.crt"), ca);

  // A second scheduler on the same namespace (a restart) takes what exists.
  std::string before = Field(*Secret("labkube-gateway-tls"), "tls.crt");
  SchedulerProcess* again = StartScheduler("certs-again", Flags());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Field(*Secret("labkube-gateway-tls"), "tls.crt"), before);
}

}  // namespace
}  // namespace labkube::it
