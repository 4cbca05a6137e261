#include "lib/kube/resource.h"

#include "gtest/gtest.h"

namespace labkube::kube {
namespace {

TEST(ResourceTest, CoreNamespaced) {
  const Resource& pods = resources::Pods();
  EXPECT_EQ(pods.ApiVersion(), "v1");
  EXPECT_EQ(pods.Path("ns1"), "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(pods.Path("ns1", "p"), "/api/v1/namespaces/ns1/pods/p");
  EXPECT_EQ(pods.Path(""), "/api/v1/pods");  // all namespaces
}

TEST(ResourceTest, GroupedNamespaced) {
  const Resource& d = resources::Deployments();
  EXPECT_EQ(d.ApiVersion(), "apps/v1");
  EXPECT_EQ(d.Path("default", "web"), "/apis/apps/v1/namespaces/default/deployments/web");
  EXPECT_EQ(resources::Leases().Path("kube-system", "l"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l");
}

TEST(ResourceTest, ClusterScopedIgnoresNamespace) {
  EXPECT_EQ(resources::Machines().Path("ignored", "m1"), "/apis/labkube.io/v1alpha1/machines/m1");
  EXPECT_EQ(resources::Machines().ApiVersion(), "labkube.io/v1alpha1");
  EXPECT_EQ(resources::Nodes().Path("x", "n"), "/api/v1/nodes/n");
  EXPECT_EQ(resources::TokenReviews().Path(""), "/apis/authentication.k8s.io/v1/tokenreviews");
  EXPECT_EQ(resources::ClusterRoles().Path("x"), "/apis/rbac.authorization.k8s.io/v1/clusterroles");
}

TEST(ResourceTest, AllResources) {
  struct Want {
    const Resource& r;
    const char* api_version;
    const char* plural;
    const char* kind;
    bool namespaced;
  };
  const Want wants[] = {
      {resources::Pods(), "v1", "pods", "Pod", true},
      {resources::Nodes(), "v1", "nodes", "Node", false},
      {resources::Namespaces(), "v1", "namespaces", "Namespace", false},
      {resources::ConfigMaps(), "v1", "configmaps", "ConfigMap", true},
      {resources::Secrets(), "v1", "secrets", "Secret", true},
      {resources::Services(), "v1", "services", "Service", true},
      {resources::ServiceAccounts(), "v1", "serviceaccounts", "ServiceAccount", true},
      {resources::Events(), "v1", "events", "Event", true},
      {resources::PersistentVolumeClaims(), "v1", "persistentvolumeclaims", "PersistentVolumeClaim",
       true},
      {resources::ResourceQuotas(), "v1", "resourcequotas", "ResourceQuota", true},
      {resources::Deployments(), "apps/v1", "deployments", "Deployment", true},
      {resources::CronJobs(), "batch/v1", "cronjobs", "CronJob", true},
      {resources::Ingresses(), "networking.k8s.io/v1", "ingresses", "Ingress", true},
      {resources::Leases(), "coordination.k8s.io/v1", "leases", "Lease", true},
      {resources::Roles(), "rbac.authorization.k8s.io/v1", "roles", "Role", true},
      {resources::RoleBindings(), "rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding",
       true},
      {resources::ClusterRoles(), "rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole",
       false},
      {resources::ClusterRoleBindings(), "rbac.authorization.k8s.io/v1", "clusterrolebindings",
       "ClusterRoleBinding", false},
      {resources::PriorityClasses(), "scheduling.k8s.io/v1", "priorityclasses", "PriorityClass",
       false},
      {resources::CustomResourceDefinitions(), "apiextensions.k8s.io/v1",
       "customresourcedefinitions", "CustomResourceDefinition", false},
      {resources::MutatingWebhookConfigurations(), "admissionregistration.k8s.io/v1",
       "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false},
      {resources::TokenReviews(), "authentication.k8s.io/v1", "tokenreviews", "TokenReview", false},
      {resources::SubjectAccessReviews(), "authorization.k8s.io/v1", "subjectaccessreviews",
       "SubjectAccessReview", false},
      {resources::Machines(), "labkube.io/v1alpha1", "machines", "Machine", false},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.kind);
    EXPECT_EQ(w.r.ApiVersion(), w.api_version);
    EXPECT_EQ(w.r.plural, w.plural);
    EXPECT_EQ(w.r.kind, w.kind);
    EXPECT_EQ(w.r.namespaced, w.namespaced);
  }
  EXPECT_EQ(&resources::Pods(), &resources::Pods());  // one instance each
}

}  // namespace
}  // namespace labkube::kube
