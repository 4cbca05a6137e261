#include "services/authenticator/member_provisioner.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/fake_client.h"

namespace labkube::authenticator {
namespace {

namespace json = kube::json;
namespace res = kube::resources;

class MemberProvisionerTest : public ::testing::Test {
 protected:
  std::string Label(const kube::Resource& r, const std::string& ns, const std::string& name,
                    const std::string& label) {
    auto obj = client_.Get(r, ns, name);
    EXPECT_TRUE(obj.ok()) << obj.status();
    return obj.ok() ? std::string(json::GetString(*obj, {"metadata", "labels", label})) : "";
  }

  kube::testing::FakeClient client_;
  MemberProvisioner prov_{client_, ProvisionerOptions{}};
};

TEST_F(MemberProvisionerTest, ProvisionCreatesEverything) {
  ASSERT_TRUE(prov_.Provision({"alice", {{"requests.nvidia.com/gpu", "2"}}, false}).ok());
  EXPECT_EQ(Label(res::Namespaces(), "", "lab-alice", "labkube.io/user"), "alice");
  EXPECT_EQ(Label(res::Namespaces(), "", "lab-alice", "labkube.io/inject-resource"), "enabled");
  EXPECT_EQ(Label(res::Namespaces(), "", "lab-alice", "pod-security.kubernetes.io/enforce"),
            "baseline");
  EXPECT_EQ(Label(res::ServiceAccounts(), "lab-alice", "alice", "labkube.io/user"), "alice");
  EXPECT_EQ(Label(res::ServiceAccounts(), "lab-alice", "alice", "labkube.io/admin"), "");
  auto rb = client_.Get(res::RoleBindings(), "lab-alice", "labkube-member");
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(json::GetString(*rb, {"roleRef", "kind"}), "ClusterRole");
  EXPECT_EQ(json::GetString(*rb, {"roleRef", "name"}), "labkube-member");
  EXPECT_EQ(json::GetString((*rb)["subjects"][0], {"name"}), "alice");
  EXPECT_EQ(json::GetString((*rb)["subjects"][0], {"namespace"}), "lab-alice");
  auto crb = client_.Get(res::ClusterRoleBindings(), "", "labkube-member-alice");
  ASSERT_TRUE(crb.ok());
  EXPECT_EQ(json::GetString(*crb, {"roleRef", "name"}), "labkube-machine-viewer");
  // The gateway may act in this namespace (and only through this binding).
  auto gw = client_.Get(res::RoleBindings(), "lab-alice", "labkube-gateway");
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(json::GetString(*gw, {"roleRef", "name"}), "labkube-gateway-member");
  EXPECT_EQ(json::GetString((*gw)["subjects"][0], {"name"}), "labkube-gateway");
  EXPECT_EQ(json::GetString((*gw)["subjects"][0], {"namespace"}), "labkube-system");
  auto q = client_.Get(res::ResourceQuotas(), "lab-alice", "labkube-quota");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(json::GetString(*q, {"spec", "hard", "requests.nvidia.com/gpu"}), "2");
}

// An admin's choice of "restricted" for a member survives the next login's repair.
TEST_F(MemberProvisionerTest, AnAdminsPodSecurityLevelIsKept) {
  ASSERT_TRUE(prov_.Provision({"carol", {}, false}).ok());
  ASSERT_TRUE(
      client_
          .Patch(res::Namespaces(), "", "lab-carol", kube::PatchType::kMergePatch,
                 R"({"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}})")
          .ok());
  ASSERT_TRUE(prov_.Provision({"carol", {}, false}).ok());
  EXPECT_EQ(Label(res::Namespaces(), "", "lab-carol", "pod-security.kubernetes.io/enforce"),
            "restricted");
}

TEST_F(MemberProvisionerTest, ProvisionIsIdempotentAndUpdatesQuotaAndAdmin) {
  ASSERT_TRUE(prov_.Provision({"bob", {{"pods", "10"}, {"requests.cpu", "4"}}, false}).ok());
  ASSERT_TRUE(prov_.Provision({"bob", {{"pods", "20"}}, true}).ok());
  auto q = client_.Get(res::ResourceQuotas(), "lab-bob", "labkube-quota");
  EXPECT_EQ(json::GetString(*q, {"spec", "hard", "pods"}), "20");
  EXPECT_EQ(json::Find(*q, {"spec", "hard", "requests.cpu"}), nullptr);
  EXPECT_EQ(Label(res::ServiceAccounts(), "lab-bob", "bob", "labkube.io/admin"), "true");
  ASSERT_TRUE(prov_.SetAdmin("bob", false).ok());
  EXPECT_EQ(Label(res::ServiceAccounts(), "lab-bob", "bob", "labkube.io/admin"), "");
  auto objects = prov_.ListObjects();
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->count("bob"), 1u);
  EXPECT_FALSE(objects->at("bob").admin);
  EXPECT_EQ(objects->at("bob").quota, (std::map<std::string, std::string>{{"pods", "20"}}));
}

TEST_F(MemberProvisionerTest, ObjectsCarryTheirKindsAndOwners) {
  ASSERT_TRUE(client_
                  .Create(res::ClusterRoles(), "",
                          json::NewObject("rbac.authorization.k8s.io/v1", "ClusterRole", "",
                                          "labkube-machine-viewer"))
                  .ok());
  ASSERT_TRUE(prov_.Provision({"erin", {{"pods", "3"}}, true}).ok());
  auto ns = client_.Get(res::Namespaces(), "", "lab-erin");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(json::GetString(*ns, {"kind"}), "Namespace");
  EXPECT_EQ(json::GetString(*ns, {"metadata", "labels", "app.kubernetes.io/managed-by"}),
            "labkube-authenticator");
  EXPECT_EQ(Label(res::ServiceAccounts(), "lab-erin", "erin", "labkube.io/admin"), "true");
  auto crb = client_.Get(res::ClusterRoleBindings(), "", "labkube-member-erin");
  ASSERT_TRUE(crb.ok());
  EXPECT_EQ(json::GetString(*crb, {"apiVersion"}), "rbac.authorization.k8s.io/v1");
  EXPECT_EQ(json::GetString(*crb, {"roleRef", "apiGroup"}), "rbac.authorization.k8s.io");
  EXPECT_EQ(json::GetString((*crb)["subjects"][0], {"kind"}), "ServiceAccount");
  EXPECT_EQ(json::GetString((*crb)["subjects"][0], {"namespace"}), "lab-erin");
  const rapidjson::Value& owner = (*crb)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(json::GetString(owner, {"kind"}), "ClusterRole");
  EXPECT_EQ(json::GetString(owner, {"name"}), "labkube-machine-viewer");
  EXPECT_FALSE(json::GetString(owner, {"uid"}).empty());
  auto gw = client_.Get(res::RoleBindings(), "lab-erin", "labkube-gateway");
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(json::GetString(*gw, {"metadata", "labels", "labkube.io/user"}), "erin");
  auto q = client_.Get(res::ResourceQuotas(), "lab-erin", "labkube-quota");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(json::GetString(*q, {"kind"}), "ResourceQuota");
  EXPECT_EQ(json::GetString(*q, {"metadata", "labels", "labkube.io/user"}), "erin");
}

// Quota keys and values are values: quotes, backslashes and `"}` stay inside their strings, in
// the created quota and in the JSON patch that updates it.
TEST_F(MemberProvisionerTest, HostileQuotaIsEscapedNotSpliced) {
  const std::string evil = R"(x"},"op":"remove","path":"/metadata","y":{"z":"\\)";
  ASSERT_TRUE(prov_.Provision({"frank", {{evil, evil}}, false}).ok());
  auto q = client_.Get(res::ResourceQuotas(), "lab-frank", "labkube-quota");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(json::GetString(*q, {"spec", "hard", evil}), evil);
  EXPECT_EQ((*q)["spec"]["hard"].MemberCount(), 1u);
  ASSERT_TRUE(prov_.Provision({"frank", {{"pods", evil}}, false}).ok());
  q = client_.Get(res::ResourceQuotas(), "lab-frank", "labkube-quota");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(json::GetString(*q, {"spec", "hard", "pods"}), evil);
  EXPECT_EQ((*q)["spec"]["hard"].MemberCount(), 1u);
  EXPECT_EQ(json::GetString(*q, {"metadata", "name"}), "labkube-quota");
}

TEST_F(MemberProvisionerTest, NeverTakesOverAForeignNamespace) {
  ASSERT_TRUE(
      client_.Create(res::Namespaces(), "", json::NewObject("v1", "Namespace", "", "lab-carol"))
          .ok());
  absl::Status s = prov_.Provision({"carol", {}, false});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(client_.Get(res::ServiceAccounts(), "lab-carol", "carol").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(prov_.Deprovision("carol", true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(client_.Get(res::Namespaces(), "", "lab-carol").ok());
}

TEST_F(MemberProvisionerTest, DeprovisionKeepsOrDeletesTheNamespace) {
  ASSERT_TRUE(prov_.Provision({"dave", {}, false}).ok());
  ASSERT_TRUE(prov_.Deprovision("dave", false).ok());
  EXPECT_EQ(client_.Get(res::ServiceAccounts(), "lab-dave", "dave").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.Get(res::RoleBindings(), "lab-dave", "labkube-member").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.Get(res::RoleBindings(), "lab-dave", "labkube-gateway").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_.Get(res::ClusterRoleBindings(), "", "labkube-member-dave").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_.Get(res::Namespaces(), "", "lab-dave").ok());
  ASSERT_TRUE(prov_.Deprovision("dave", true).ok());
  EXPECT_EQ(client_.Get(res::Namespaces(), "", "lab-dave").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(prov_.Deprovision("dave", true).ok());  // nothing left: still fine
}

}  // namespace
}  // namespace labkube::authenticator
