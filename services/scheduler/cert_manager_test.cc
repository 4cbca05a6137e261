#include "services/scheduler/cert_manager.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/resource.h"
#include "lib/kube/testing/fake_client.h"
#include "lib/kube/testing/golden.h"
#include "lib/testing/fake_clock.h"
#include "lib/testing/test_certs.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

std::string Field(const rapidjson::Value& secret, const char* key) {
  std::string out;
  absl::Base64Unescape(std::string(json::GetString(secret, {"data", key})), &out);
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first object created with `kind` and `name`, every data value (certificates and keys, new
// on every run) replaced by "<key>" once checked to be non-empty.
std::optional<rapidjson::Document> Sent(kube::testing::FakeClient& client, std::string_view kind,
                                        std::string_view name) {
  for (const rapidjson::Document& d : client.CreateBodies()) {
    if (json::GetString(d, {"kind"}) != kind || json::GetString(d, {"metadata", "name"}) != name) {
      continue;
    }
    rapidjson::Document out = json::Copy(d);
    auto data = out.FindMember("data");
    if (data != out.MemberEnd() && data->value.IsObject()) {
      for (auto& m : data->value.GetObject()) {
        if (!m.value.IsString() || m.value.GetStringLength() == 0) continue;
        m.value.SetString(absl::StrCat("<", m.name.GetString(), ">").c_str(), out.GetAllocator());
      }
    }
    return out;
  }
  return std::nullopt;
}

// The golden comparison, for an object that may never have been created.
::testing::AssertionResult MatchesGolden(const char* golden,
                                         const std::optional<rapidjson::Document>& got) {
  if (!got.has_value()) return ::testing::AssertionFailure() << "never created";
  return kube::testing::MatchesGolden(golden, *got);
}

class CertManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rapidjson::Document mwc = json::NewObject("admissionregistration.k8s.io/v1",
                                              "MutatingWebhookConfiguration", "", "labkube-injector");
    rapidjson::Value hooks(rapidjson::kArrayType);
    for (const char* name : {"pods.labkube.io", "other.labkube.io"}) {
      rapidjson::Value h(rapidjson::kObjectType);
      h.AddMember("name", rapidjson::Value(name, mwc.GetAllocator()), mwc.GetAllocator());
      h.AddMember("clientConfig", rapidjson::Value(rapidjson::kObjectType), mwc.GetAllocator());
      hooks.PushBack(h, mwc.GetAllocator());
    }
    mwc.AddMember("webhooks", hooks, mwc.GetAllocator());
    ASSERT_TRUE(kube_.Create(res::MutatingWebhookConfigurations(), "", mwc).ok());
  }

  rapidjson::Document Secret(const std::string& name) {
    return kube_.Get(res::Secrets(), "labkube-system", name).value();
  }
  std::string Bundle() {
    return std::string(json::GetString(
        kube_.Get(res::ConfigMaps(), "labkube-system", "labkube-ca").value(), {"data", "ca.crt"}));
  }

  labkube::testing::FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  kube::testing::FakeClient kube_{clock_};
  CertManager certs_{kube_, clock_, {}};
};

TEST_F(CertManagerTest, AFreshClusterGetsACaEveryServiceCertAndTheWebhookBundle) {
  absl::StatusOr<std::vector<std::string>> wrote = certs_.Reconcile();
  ASSERT_TRUE(wrote.ok()) << wrote.status();
  EXPECT_EQ(wrote->size(), 7u) << "CA, 4 services, ConfigMap, webhook";
  std::string ca = Field(Secret("labkube-ca"), "ca.crt");
  for (const char* svc : {"scheduler", "injector", "authenticator", "gateway"}) {
    rapidjson::Document s = Secret(absl::StrCat("labkube-", svc, "-tls"));
    EXPECT_EQ(json::GetString(s, {"type"}), "kubernetes.io/tls");
    std::string cert = Field(s, "tls.crt");
    EXPECT_TRUE(pki::SignedBy(cert, ca));
    EXPECT_TRUE(pki::KeyMatches({cert, Field(s, "tls.key")}));
    absl::StatusOr<pki::CertInfo> info = pki::Inspect(cert);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->common_name, absl::StrCat("labkube-", svc));
    EXPECT_EQ(info->dns_names[2], absl::StrCat("labkube-", svc, ".labkube-system.svc"));
    EXPECT_EQ(Field(s, "ca.crt"), ca);
  }
  EXPECT_EQ(Bundle(), ca);
  rapidjson::Document mwc =
      kube_.Get(res::MutatingWebhookConfigurations(), "", "labkube-injector").value();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(json::GetString(mwc["webhooks"][i], {"clientConfig", "caBundle"}),
              absl::Base64Escape(ca));
  }
  // A healthy installation: the next pass only reads.
  wrote = certs_.Reconcile();
  ASSERT_TRUE(wrote.ok());
  EXPECT_TRUE(wrote->empty()) << absl::StrJoin(*wrote, ",");
}

// The objects as the json::NewObject/SetString code wrote them before they moved to
// kube::Builder; the typed build must write the same fields and values.
constexpr char kGoldenCaSecret[] = R"json({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "labkube-ca", "namespace": "labkube-system",
               "labels": {"app.kubernetes.io/part-of": "labkube",
                          "app.kubernetes.io/managed-by": "labkube-scheduler"}},
  "type": "Opaque",
  "data": {"ca.crt": "<ca.crt>", "ca.key": "<ca.key>"}
})json";
constexpr char kGoldenTlsSecret[] = R"json({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "labkube-scheduler-tls", "namespace": "labkube-system",
               "labels": {"app.kubernetes.io/part-of": "labkube",
                          "app.kubernetes.io/managed-by": "labkube-scheduler"}},
  "type": "kubernetes.io/tls",
  "data": {"tls.crt": "<tls.crt>", "tls.key": "<tls.key>", "ca.crt": "<ca.crt>"}
})json";
constexpr char kGoldenCaConfigMap[] = R"json({
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "labkube-ca", "namespace": "labkube-system",
               "labels": {"app.kubernetes.io/part-of": "labkube",
                          "app.kubernetes.io/managed-by": "labkube-scheduler"}},
  "data": {"ca.crt": "<ca.crt>"}
})json";

TEST_F(CertManagerTest, TheWrittenObjectsMatchTheGoldens) {
  ASSERT_TRUE(certs_.Reconcile().ok());
  EXPECT_TRUE(MatchesGolden(kGoldenCaSecret, Sent(kube_, "Secret", "labkube-ca")));
  EXPECT_TRUE(MatchesGolden(kGoldenTlsSecret, Sent(kube_, "Secret", "labkube-scheduler-tls")));
  EXPECT_TRUE(MatchesGolden(kGoldenCaConfigMap, Sent(kube_, "ConfigMap", "labkube-ca")));
}

TEST_F(CertManagerTest, DeletedOrDamagedObjectsAreMadeAgain) {
  ASSERT_TRUE(certs_.Reconcile().ok());
  std::string ca = Field(Secret("labkube-ca"), "ca.crt");
  ASSERT_TRUE(kube_.Delete(res::Secrets(), "labkube-system", "labkube-injector-tls").ok());
  rapidjson::Document gw = Secret("labkube-gateway-tls");
  json::SetString(gw, {"data", "tls.crt"}, absl::Base64Escape("not a certificate"));
  ASSERT_TRUE(kube_.Update(res::Secrets(), "labkube-system", "labkube-gateway-tls", gw).ok());
  ASSERT_TRUE(kube_.Patch(res::MutatingWebhookConfigurations(), "", "labkube-injector",
                          kube::PatchType::kJsonPatch,
                          R"([{"op":"add","path":"/webhooks/1/clientConfig/caBundle","value":"eA=="}])")
                  .ok());
  absl::StatusOr<std::vector<std::string>> wrote = certs_.Reconcile();
  ASSERT_TRUE(wrote.ok()) << wrote.status();
  EXPECT_EQ(*wrote, (std::vector<std::string>{"Secret/labkube-injector-tls",
                                              "Secret/labkube-gateway-tls",
                                              "MutatingWebhookConfiguration/labkube-injector"}));
  EXPECT_EQ(Field(Secret("labkube-ca"), "ca.crt"), ca) << "the CA stays";
  EXPECT_TRUE(pki::SignedBy(Field(Secret("labkube-injector-tls"), "tls.crt"), ca));
}

TEST_F(CertManagerTest, CertificatesAreRenewedWithAThirdOfTheirLifeLeft) {
  ASSERT_TRUE(certs_.Reconcile().ok());
  std::string before = Field(Secret("labkube-injector-tls"), "tls.crt");
  clock_.Advance(absl::Hours(24 * 59));  // 90-day certificates: 31 days left
  EXPECT_TRUE(certs_.Reconcile()->empty());
  clock_.Advance(absl::Hours(24 * 2));  // 29 days left: renewed
  absl::StatusOr<std::vector<std::string>> wrote = certs_.Reconcile();
  ASSERT_TRUE(wrote.ok());
  EXPECT_EQ(wrote->size(), 4u);
  EXPECT_NE(Field(Secret("labkube-injector-tls"), "tls.crt"), before);
}

TEST_F(CertManagerTest, ANewCaKeepsTheOldOneTrustedWhileItIsValid) {
  ASSERT_TRUE(certs_.Reconcile().ok());
  std::string old_ca = Field(Secret("labkube-ca"), "ca.crt");
  ASSERT_TRUE(kube_.Delete(res::Secrets(), "labkube-system", "labkube-ca").ok());
  ASSERT_TRUE(certs_.Reconcile().ok());
  std::string new_ca = Field(Secret("labkube-ca"), "ca.crt");
  ASSERT_NE(new_ca, old_ca);
  EXPECT_EQ(Bundle(), new_ca + old_ca);
  EXPECT_EQ(Field(Secret("labkube-scheduler-tls"), "ca.crt"), new_ca + old_ca);
  EXPECT_TRUE(pki::SignedBy(Field(Secret("labkube-scheduler-tls"), "tls.crt"), new_ca));
}

TEST_F(CertManagerTest, ApiErrorsAreReturnedAndTheNextPassRepairs) {
  kube_.InjectError("Get", absl::UnavailableError("connection refused"));
  absl::StatusOr<std::vector<std::string>> wrote = certs_.Reconcile();
  EXPECT_EQ(wrote.status().code(), absl::StatusCode::kUnavailable);
  kube_.InjectError("Create", absl::PermissionDeniedError("forbidden"), 1);
  EXPECT_EQ(certs_.Reconcile().status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(certs_.Reconcile().ok());
  EXPECT_TRUE(certs_.Reconcile()->empty());
}

TEST_F(CertManagerTest, TheGatewayCarriesTheNamesMembersUseAndANewNameReissuesIt) {
  ASSERT_TRUE(certs_.Reconcile().ok());
  CertManagerOptions o;
  o.services = DefaultServiceCertificates("labkube-system", {"lab.example.edu", "192.0.2.7"});
  CertManager named(kube_, clock_, o);
  absl::StatusOr<std::vector<std::string>> wrote = named.Reconcile();
  ASSERT_TRUE(wrote.ok()) << wrote.status();
  EXPECT_EQ(*wrote, std::vector<std::string>{"Secret/labkube-gateway-tls"});
  absl::StatusOr<pki::CertInfo> info = pki::Inspect(Field(Secret("labkube-gateway-tls"), "tls.crt"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->dns_names.back(), "lab.example.edu");
  EXPECT_EQ(info->ip_addresses, std::vector<std::string>{"192.0.2.7"});
  EXPECT_TRUE(named.Reconcile()->empty());
}

TEST_F(CertManagerTest, NoWebhookConfigurationYetIsFine) {
  ASSERT_TRUE(kube_.Delete(res::MutatingWebhookConfigurations(), "", "labkube-injector").ok());
  absl::StatusOr<std::vector<std::string>> wrote = certs_.Reconcile();
  ASSERT_TRUE(wrote.ok()) << wrote.status();
  EXPECT_EQ(wrote->size(), 6u);
}

TEST_F(CertManagerTest, WriteFilesPutsTheServiceCertificateIntoADirectory) {
  const std::string dir = labkube::testing::TestTmpDir();
  EXPECT_EQ(certs_.WriteFiles("labkube-scheduler-tls", dir).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(certs_.Reconcile().ok());
  ASSERT_TRUE(certs_.WriteFiles("labkube-scheduler-tls", dir).ok());
  rapidjson::Document s = Secret("labkube-scheduler-tls");
  EXPECT_EQ(ReadAll(dir + "/tls.crt"), Field(s, "tls.crt"));
  EXPECT_EQ(ReadAll(dir + "/tls.key"), Field(s, "tls.key"));
  EXPECT_EQ(ReadAll(dir + "/ca.crt"), Field(s, "ca.crt"));
}

}  // namespace
}  // namespace labkube::scheduler
