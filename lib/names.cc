#include "lib/names.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"

namespace labkube::names {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

}  // namespace

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) return false;
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsDnsLabel(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

absl::Status CheckLength(std::string_view field, std::string_view value, size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(field), ": longer than ", max, " characters"));
}

absl::Status CheckDnsLabel(std::string_view field, std::string_view value, size_t max_length) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is required"));
  if (absl::Status s = CheckLength(field, value, max_length); !s.ok()) return s;
  if (IsDnsLabel(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      ToAbsl(field), ": \"", ToAbsl(value),
      "\" is not a DNS label (lower-case letters, digits and '-', starting and ending with a "
      "letter or digit)"));
}

std::string MemberNamespace(std::string_view prefix, std::string_view member) {
  return absl::StrCat(ToAbsl(prefix), ToAbsl(member));
}

std::optional<ServiceAccountRef> ParseServiceAccountUser(std::string_view username) {
  if (username.substr(0, kServiceAccountPrefix.size()) != kServiceAccountPrefix) {
    return std::nullopt;
  }
  std::string_view rest = username.substr(kServiceAccountPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view ns = rest.substr(0, colon);
  std::string_view name = rest.substr(colon + 1);
  if (ns.empty() || name.empty() || name.find(':') != std::string_view::npos) return std::nullopt;
  return ServiceAccountRef{std::string(ns), std::string(name)};
}

std::optional<std::string> MemberOfUser(std::string_view prefix, std::string_view username) {
  std::optional<ServiceAccountRef> sa = ParseServiceAccountUser(username);
  if (!sa.has_value() || !IsDnsLabel(sa->name)) return std::nullopt;
  if (sa->ns != MemberNamespace(prefix, sa->name)) return std::nullopt;
  return sa->name;
}

}  // namespace labkube::names
