// Names, labels and input checks shared by the gateway's managers: the member <-> namespace
// mapping, the labels on everything the gateway creates, DNS-label and size checks whose errors
// name the field, and URL pattern expansion.
//
// Free functions and constants, no state; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_NAMES_H_
#define LABKUBE_SERVICES_GATEWAY_NAMES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::gateway {

// Labels the gateway reads or writes.
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedBy[] = "labkube-gateway";
inline constexpr char kComponentLabel[] = "labkube.io/component";  // storage | workspace
inline constexpr char kWorkspaceLabel[] = "labkube.io/workspace";
inline constexpr char kWorkspaceKindLabel[] = "labkube.io/workspace-kind";
inline constexpr char kVolumeLabel[] = "labkube.io/volume";  // cephfs | nfs
inline constexpr char kUserLabel[] = "labkube.io/user";
inline constexpr char kAdminLabel[] = "labkube.io/admin";
// Guest pods (the injector's contract).
inline constexpr char kPodRoleLabel[] = "labkube.io/pod-role";
inline constexpr char kMachineGroupLabel[] = "labkube.io/machine-group";
inline constexpr char kMachineTypeLabel[] = "labkube.io/machine-type";
inline constexpr char kInjectingContainerLabel[] = "labkube.io/injecting-container";
inline constexpr char kNodeAnnotation[] = "labkube.io/node";

// Longest workspace name (object names derive from it: ws-<name>-token).
inline constexpr size_t kMaxWorkspaceNameLength = 40;

// RFC 1123 label: 1-63 of [a-z0-9-], starting and ending with an alphanumeric.
bool IsDnsLabel(std::string_view name);

// RFC 1123 subdomain: dot-separated DNS labels, at most 253 characters (Secret names).
bool IsDnsSubdomain(std::string_view name);

// OK, or kInvalidArgument "<field>: "<value>" is not a DNS label (...)" / "<field> is required"
// / "<field>: longer than <max_length> characters".
absl::Status CheckDnsLabel(std::string_view field, std::string_view value, size_t max_length = 63);

// kInvalidArgument "<field>: longer than <max> characters" when `value` is too long.
absl::Status CheckLength(std::string_view field, std::string_view value, size_t max);

// A storage size: a Kubernetes quantity of at least 1Mi and at most 1Pi, in bytes.
// kInvalidArgument "<field>: ..." otherwise.
absl::StatusOr<int64_t> ParseSize(std::string_view field, std::string_view text);

// "lab-" + "alice".
std::string MemberNamespace(std::string_view prefix, std::string_view member);

// Replaces {member}, {workspace} and {namespace} in `pattern`.
std::string ExpandPattern(std::string_view pattern, std::string_view member,
                          std::string_view workspace, std::string_view ns);

// Label selector text "k1=v1,k2=v2" (sorted by key).
std::string Selector(const std::map<std::string, std::string>& labels);

// An RFC 3339 time as the API server writes it ("2024-05-01T03:00:00Z"); nullopt when empty or
// malformed.
std::optional<absl::Time> ParseTime(std::string_view text);

// `s` as a JSON string literal, quotes included (for building manifests as text).
std::string JsonQuote(std::string_view s);

// An error from the Kubernetes API while doing `what`, worded for a member. kPermissionDenied
// there means the gateway's own RBAC is missing (not the member's fault): it becomes
// kFailedPrecondition naming the namespace, so it is not mistaken for a login problem.
// kNotFound / kAlreadyExists / kInvalidArgument / kUnavailable keep their code.
absl::Status KubeError(const absl::Status& status, std::string_view what, std::string_view ns);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_NAMES_H_
