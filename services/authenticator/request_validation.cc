#include "services/authenticator/request_validation.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "lib/names.h"
#include "lib/status_macros.h"

namespace labkube::authenticator {

using names::IsDnsLabel;
using names::IsDnsSubdomain;

namespace {

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status MemberName(absl::string_view field, const std::string& v) {
  if (v.empty()) return Bad(field, "required");
  if (v.size() > 63) return Bad(field, "longer than 63 characters");
  if (!IsDnsLabel(v)) {
    return Bad(field, "not a DNS label (lowercase letters, digits and '-', at most 63)");
  }
  return absl::OkStatus();
}

absl::Status Password(absl::string_view field, const std::string& v, bool required) {
  if (v.empty()) return required ? Bad(field, "required") : absl::OkStatus();
  if (v.size() > kMaxPasswordBytes) {
    return Bad(field, absl::StrCat("longer than ", kMaxPasswordBytes, " bytes"));
  }
  if (v.find('\0') != std::string::npos) return Bad(field, "contains a NUL byte");
  return absl::OkStatus();
}

absl::Status RefreshToken(const std::string& v) {
  if (v.empty()) return Bad("refresh_token", "required");
  if (v.size() > kMaxRefreshTokenBytes) return Bad("refresh_token", "too long");
  return absl::OkStatus();
}

absl::Status Form(api::KubeconfigForm form) {
  if (!api::KubeconfigForm_IsValid(form)) return Bad("form", "unknown value");
  return absl::OkStatus();
}

}  // namespace

absl::Status Validate(const api::LoginRequest& r) {
  LK_RETURN_IF_ERROR(MemberName("username", r.username()));
  LK_RETURN_IF_ERROR(Password("password", r.password(), true));
  return Form(r.form());
}

absl::Status Validate(const api::RefreshRequest& r) {
  LK_RETURN_IF_ERROR(RefreshToken(r.refresh_token()));
  return Form(r.form());
}

absl::Status Validate(const api::LogoutRequest& r) { return RefreshToken(r.refresh_token()); }

absl::Status Validate(const api::CreateMemberRequest& r) {
  LK_RETURN_IF_ERROR(MemberName("name", r.name()));
  LK_RETURN_IF_ERROR(Password("password", r.password(), false));
  if (r.quota_size() > kMaxQuotaEntries) {
    return Bad("quota", absl::StrCat("more than ", kMaxQuotaEntries, " entries"));
  }
  for (const auto& [key, value] : r.quota()) {
    if (key.empty() || key.size() > 253)
      return Bad("quota", "resource names must be 1-253 characters");
    if (value.empty() || value.size() > 64) {
      return Bad("quota", absl::StrCat("value of ", key, " must be a quantity of 1-64 characters"));
    }
  }
  return absl::OkStatus();
}

absl::Status Validate(const api::DeleteMemberRequest& r) { return MemberName("name", r.name()); }

absl::Status Validate(const api::SetPasswordRequest& r) {
  LK_RETURN_IF_ERROR(MemberName("name", r.name()));
  LK_RETURN_IF_ERROR(Password("new_password", r.new_password(), true));
  return Password("old_password", r.old_password(), false);
}

absl::Status Validate(const api::IssueKubeconfigRequest& r) {
  if (r.namespace_().empty()) return Bad("namespace", "required");
  if (!IsDnsLabel(r.namespace_())) return Bad("namespace", "not a DNS label");
  if (r.service_account().empty()) return Bad("service_account", "required");
  if (!IsDnsSubdomain(r.service_account())) return Bad("service_account", "not a DNS subdomain");
  if (r.expiration_seconds() < 0) return Bad("expiration_seconds", "must not be negative");
  return absl::OkStatus();
}

}  // namespace labkube::authenticator
