// MemberProvisioner: the Kubernetes objects that make up a lab member `x`:
//   - Namespace <prefix>x, labelled labkube.io/user=x, labkube.io/inject-resource=enabled and
//     app.kubernetes.io/managed-by=labkube-authenticator;
//   - ServiceAccount x in it, labelled labkube.io/user=x (and labkube.io/admin=true for admins);
//   - RoleBinding labkube-member in it, granting the ClusterRole `member_role` to that
//     ServiceAccount (pods, deployments, services, ... in this namespace only);
//   - ClusterRoleBinding labkube-member-x granting the ClusterRole `machine_viewer_role`
//     (read Machines, which are cluster-scoped and so cannot be granted by a RoleBinding);
//   - optionally ResourceQuota labkube-quota with the given spec.hard.
// Provision is idempotent (existing objects it owns are brought up to date); an existing
// namespace that is not this member's is never taken over. Deprovision deletes the
// ServiceAccount first (all its tokens stop working at once), then the bindings, and the
// namespace only when asked and only if it is labelled as this member's.
//
// Ownership: borrows the client. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_PROVISIONER_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_PROVISIONER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/types.h"

namespace labkube::authenticator {

inline constexpr char kMemberRoleBinding[] = "labkube-member";
inline constexpr char kGatewayRoleBinding[] = "labkube-gateway";
inline constexpr char kQuotaName[] = "labkube-quota";
// Pod Security for members' namespaces: "baseline" (no privileged pods, hostPath, hostPID,
// hostNetwork, added capabilities) unless an admin labels the namespace "restricted".
inline constexpr char kPodSecurityLabel[] = "pod-security.kubernetes.io/enforce";
inline constexpr char kDefaultPodSecurity[] = "baseline";

struct ProvisionerOptions {
  std::string namespace_prefix = "lab-";
  std::string member_role = "labkube-member";
  std::string machine_viewer_role = "labkube-machine-viewer";
  // The gateway acts in member namespaces only, through this role bound in each of them to its
  // ServiceAccount (k8s/gateway/rbac.yaml explains why not cluster-wide). Empty: no binding.
  std::string gateway_role = "labkube-gateway-member";
  std::string gateway_namespace = "labkube-system";
  std::string gateway_service_account = "labkube-gateway";
};

struct MemberSpec {
  std::string name;
  std::map<std::string, std::string> quota;  // empty: no ResourceQuota
  bool admin = false;
};

// What the cluster says about a member (for listings).
struct MemberObjects {
  bool admin = false;
  std::map<std::string, std::string> quota;
};

class MemberProvisioner {
 public:
  MemberProvisioner(kube::Client& client, ProvisionerOptions options);

  // What Provision got done before it returned (for rolling back a failed attempt).
  struct Progress {
    bool namespace_owned = false;    // the namespace is this member's (created or found)
    bool namespace_created = false;  // ... and this call created it
  };
  // kFailedPrecondition when the namespace exists but belongs to someone else or is being
  // deleted; kInvalidArgument (prefixed "quota: ") when the API server rejects the quota.
  absl::Status Provision(const MemberSpec& spec, Progress* progress = nullptr);
  absl::Status Deprovision(const std::string& name, bool delete_namespace);
  // Re-creates missing RoleBindings / ClusterRoleBinding of an existing member (members made
  // by an older version, or bindings deleted by hand); existing ones are left as they are.
  absl::Status EnsureAccess(const std::string& name) { return EnsureBindings(name); }
  absl::Status SetAdmin(const std::string& name, bool admin);
  // Members' ServiceAccounts and quotas, by member name.
  absl::StatusOr<std::map<std::string, MemberObjects>> ListObjects();

  std::string NamespaceOf(const std::string& name) const;
  std::string ClusterRoleBindingOf(const std::string& name) const;

 private:
  absl::Status EnsureNamespace(const std::string& name, Progress& progress);
  absl::Status EnsureServiceAccount(const MemberSpec& spec);
  absl::Status EnsureBindings(const std::string& name);
  void OwnByClusterRole(kube::ObjectMeta& binding, const std::string& role);
  absl::Status EnsureQuota(const MemberSpec& spec);

  kube::Client& client_;
  const ProvisionerOptions options_;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_MEMBER_PROVISIONER_H_
