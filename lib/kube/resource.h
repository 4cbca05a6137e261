// Resource: where a kind lives in the REST API (group, version, plural, scope), and the
// resources labkube uses. Plain values; thread-safe.
#ifndef LABKUBE_LIB_KUBE_RESOURCE_H_
#define LABKUBE_LIB_KUBE_RESOURCE_H_

#include <string>
#include <string_view>

namespace labkube::kube {

struct Resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  std::string kind;     // "Pod"
  bool namespaced = true;

  std::string ApiVersion() const;  // "v1", "apps/v1"
  // "/api/v1/namespaces/NS/pods[/NAME]" or "/apis/G/V/..."; ns ignored when cluster-scoped.
  std::string Path(std::string_view ns, std::string_view name = "") const;
};

namespace resources {
const Resource& Pods();
const Resource& Nodes();
const Resource& Namespaces();
const Resource& ConfigMaps();
const Resource& Secrets();
const Resource& Services();
const Resource& ServiceAccounts();
const Resource& Events();
const Resource& PersistentVolumeClaims();
const Resource& ResourceQuotas();
const Resource& Deployments();
const Resource& CronJobs();
const Resource& Ingresses();
const Resource& Leases();
const Resource& Roles();
const Resource& RoleBindings();
const Resource& ClusterRoles();
const Resource& ClusterRoleBindings();
const Resource& PriorityClasses();
const Resource& CustomResourceDefinitions();
const Resource& MutatingWebhookConfigurations();
const Resource& TokenReviews();
const Resource& SubjectAccessReviews();
const Resource& Machines();  // labkube.io/v1alpha1, cluster-scoped
const Resource& Workspaces();  // labkube.io/v1alpha1, namespaced (services/gateway/workspace_object.h)
}  // namespace resources

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_RESOURCE_H_
