#include "lib/kube/resource.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"

namespace labkube::kube {

std::string Resource::ApiVersion() const {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

std::string Resource::Path(std::string_view ns, std::string_view name) const {
  std::string path =
      group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
  if (namespaced && !ns.empty()) absl::StrAppend(&path, "/namespaces/", ToAbsl(ns));
  absl::StrAppend(&path, "/", plural);
  if (!name.empty()) absl::StrAppend(&path, "/", ToAbsl(name));
  return path;
}

namespace resources {
namespace {

// Leaked on purpose: references stay valid during static destruction.
const Resource& Make(std::string group, std::string version, std::string plural, std::string kind,
                     bool namespaced) {
  return *new Resource{std::move(group), std::move(version), std::move(plural), std::move(kind),
                       namespaced};
}

}  // namespace

#define LK_RESOURCE(fn, group, version, plural, kind, namespaced)              \
  const Resource& fn() {                                                       \
    static const Resource& r = Make(group, version, plural, kind, namespaced); \
    return r;                                                                  \
  }

LK_RESOURCE(Pods, "", "v1", "pods", "Pod", true)
LK_RESOURCE(Nodes, "", "v1", "nodes", "Node", false)
LK_RESOURCE(Namespaces, "", "v1", "namespaces", "Namespace", false)
LK_RESOURCE(ConfigMaps, "", "v1", "configmaps", "ConfigMap", true)
LK_RESOURCE(Secrets, "", "v1", "secrets", "Secret", true)
LK_RESOURCE(Services, "", "v1", "services", "Service", true)
LK_RESOURCE(ServiceAccounts, "", "v1", "serviceaccounts", "ServiceAccount", true)
LK_RESOURCE(Events, "", "v1", "events", "Event", true)
LK_RESOURCE(PersistentVolumeClaims, "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim",
            true)
LK_RESOURCE(ResourceQuotas, "", "v1", "resourcequotas", "ResourceQuota", true)
LK_RESOURCE(Deployments, "apps", "v1", "deployments", "Deployment", true)
LK_RESOURCE(CronJobs, "batch", "v1", "cronjobs", "CronJob", true)
LK_RESOURCE(Ingresses, "networking.k8s.io", "v1", "ingresses", "Ingress", true)
LK_RESOURCE(Leases, "coordination.k8s.io", "v1", "leases", "Lease", true)
LK_RESOURCE(Roles, "rbac.authorization.k8s.io", "v1", "roles", "Role", true)
LK_RESOURCE(RoleBindings, "rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true)
LK_RESOURCE(ClusterRoles, "rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false)
LK_RESOURCE(ClusterRoleBindings, "rbac.authorization.k8s.io", "v1", "clusterrolebindings",
            "ClusterRoleBinding", false)
LK_RESOURCE(PriorityClasses, "scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false)
LK_RESOURCE(CustomResourceDefinitions, "apiextensions.k8s.io", "v1", "customresourcedefinitions",
            "CustomResourceDefinition", false)
LK_RESOURCE(MutatingWebhookConfigurations, "admissionregistration.k8s.io", "v1",
            "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false)
LK_RESOURCE(TokenReviews, "authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false)
LK_RESOURCE(SubjectAccessReviews, "authorization.k8s.io", "v1", "subjectaccessreviews",
            "SubjectAccessReview", false)
LK_RESOURCE(Machines, "labkube.io", "v1alpha1", "machines", "Machine", false)
LK_RESOURCE(Workspaces, "labkube.io", "v1alpha1", "workspaces", "Workspace", true)

#undef LK_RESOURCE

}  // namespace resources
}  // namespace labkube::kube
