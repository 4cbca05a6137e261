// Names and labels of labkube members: DNS-label checks, the member <-> namespace mapping, the
// ServiceAccount username format, and the labels the authenticator reads and writes.
//
// Free functions and constants, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_NAMES_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_NAMES_H_

#include <optional>
#include <string>
#include <string_view>

namespace labkube::authenticator {

inline constexpr char kUserLabel[] = "labkube.io/user";
inline constexpr char kAdminLabel[] = "labkube.io/admin";
inline constexpr char kKubeconfigLabel[] = "labkube.io/kubeconfig";
inline constexpr char kInjectLabel[] = "labkube.io/inject-resource";
// Pod Security for members' namespaces: "baseline" (no privileged pods, hostPath, hostPID,
// hostNetwork, added capabilities) unless an admin labels the namespace "restricted".
inline constexpr char kPodSecurityLabel[] = "pod-security.kubernetes.io/enforce";
inline constexpr char kDefaultPodSecurity[] = "baseline";
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedBy[] = "labkube-authenticator";

// RFC 1123 label: 1-63 of [a-z0-9-], starting and ending with an alphanumeric.
bool IsDnsLabel(std::string_view name);
// RFC 1123 subdomain (ServiceAccount names): up to 253 characters, dot-separated labels.
bool IsDnsSubdomain(std::string_view name);

// Member <-> namespace with a configurable prefix ("lab-").
std::string MemberNamespace(std::string_view prefix, std::string_view member);

// "system:serviceaccount:NS:NAME" -> {NS, NAME}; nullopt for anything else.
struct ServiceAccountRef {
  std::string ns;
  std::string name;
};
std::optional<ServiceAccountRef> ParseServiceAccountUser(std::string_view username);

// The member a ServiceAccount username belongs to: system:serviceaccount:<prefix><x>:<x> -> x.
std::optional<std::string> MemberOfUser(std::string_view prefix, std::string_view username);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_NAMES_H_
