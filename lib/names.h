// Names of Kubernetes objects and labkube members, checked and mapped in one place for every
// service: RFC 1123 DNS-label and subdomain checks (as booleans, and as absl::Status errors that
// name the offending field), length checks, the member <-> namespace mapping, and the
// ServiceAccount username format ("system:serviceaccount:NS:NAME").
//
// The authenticator and the gateway both validate requests with these, so a name one accepts
// the other accepts too. Free functions, no state; safe from any thread.
#ifndef LABKUBE_LIB_NAMES_H_
#define LABKUBE_LIB_NAMES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace labkube::names {

// RFC 1123 label: 1-63 of [a-z0-9-], starting and ending with an alphanumeric.
bool IsDnsLabel(std::string_view name);

// RFC 1123 subdomain (ServiceAccount and Secret names): up to 253 characters, dot-separated
// DNS labels.
bool IsDnsSubdomain(std::string_view name);

// OK, or kInvalidArgument "<field> is required" (empty) / "<field>: longer than <max_length>
// characters" / "<field>: "<value>" is not a DNS label (...)".
absl::Status CheckDnsLabel(std::string_view field, std::string_view value, size_t max_length = 63);

// kInvalidArgument "<field>: longer than <max> characters" when `value` is too long.
absl::Status CheckLength(std::string_view field, std::string_view value, size_t max);

// A member's namespace, with a configurable prefix: ("lab-", "alice") -> "lab-alice".
std::string MemberNamespace(std::string_view prefix, std::string_view member);

// "system:serviceaccount:NS:NAME" -> {NS, NAME}; nullopt for anything else (either part empty,
// or a ':' in NAME).
struct ServiceAccountRef {
  std::string ns;
  std::string name;
};
std::optional<ServiceAccountRef> ParseServiceAccountUser(std::string_view username);

// The member a ServiceAccount username belongs to: system:serviceaccount:<prefix><x>:<x> -> x,
// where x is a DNS label; nullopt for any other username.
std::optional<std::string> MemberOfUser(std::string_view prefix, std::string_view username);

}  // namespace labkube::names

#endif  // LABKUBE_LIB_NAMES_H_
