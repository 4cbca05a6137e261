#include "services/authenticator/names.h"

#include <cctype>

namespace labkube::authenticator {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

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
        name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (!IsDnsLabel(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string MemberNamespace(std::string_view prefix, std::string_view member) {
  std::string out(prefix);
  out.append(member);
  return out;
}

std::optional<ServiceAccountRef> ParseServiceAccountUser(std::string_view username) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (username.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = username.substr(kPrefix.size());
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

}  // namespace labkube::authenticator
