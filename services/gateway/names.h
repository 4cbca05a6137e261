// Input checks and helpers of the gateway's managers: storage sizes, URL pattern expansion,
// label selectors, API times, JSON quoting and Kubernetes errors worded for members. DNS-name
// checks and the member <-> namespace mapping live in lib/names.h, label names in
// lib/contract.h (shared with the other services).
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

// Longest workspace name (object names derive from it: ws-<name>-token).
inline constexpr size_t kMaxWorkspaceNameLength = 40;

// A storage size: a Kubernetes quantity of at least 1Mi and at most 1Pi, in bytes.
// kInvalidArgument "<field>: ..." otherwise.
absl::StatusOr<int64_t> ParseSize(std::string_view field, std::string_view text);

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
