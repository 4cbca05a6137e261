#include "services/authenticator/authenticator_service.h"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/grpc_status.h"
#include "services/authenticator/lockout.h"
#include "services/authenticator/request_validation.h"

namespace labkube::authenticator {
namespace {

using google::protobuf::Timestamp;

void SetTime(absl::Time t, Timestamp* out) {
  *out = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// Every `key` value in the order received, joined with ", " (as HTTP joins repeated headers);
// nullopt if there is none.
std::optional<std::string> JoinedMetadata(const grpc::ServerContext& context,
                                          std::string_view key) {
  auto [begin, end] =
      context.client_metadata().equal_range(grpc::string_ref(key.data(), key.size()));
  if (begin == end) return std::nullopt;
  std::string joined;
  for (auto it = begin; it != end; ++it) {
    if (it != begin) joined += ", ";
    joined.append(it->second.data(), it->second.size());
  }
  return joined;
}

// `call()` when the request is valid, else the validation error.
template <typename T, typename F>
absl::StatusOr<T> IfValid(const absl::Status& valid, F call) {
  if (!valid.ok()) return valid;
  return call();
}

}  // namespace

RequestContext AuthenticatorService::ContextOf(const grpc::ServerContext& context) const {
  RequestContext ctx;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    ctx.authorization = std::string(it->second.data(), it->second.size());
  }
  std::optional<std::string> forwarded_for = JoinedMetadata(context, "x-forwarded-for");
  ctx.peer = ClientAddress(trusted_proxies_, PeerAddress(context.peer()), forwarded_for);
  return ctx;
}

CredentialForm FromProto(api::KubeconfigForm form) {
  return form == api::KUBECONFIG_FORM_EXEC ? CredentialForm::kExec : CredentialForm::kToken;
}

void ToProto(const MemberInfo& in, api::Member* out) {
  out->set_name(in.name);
  out->set_namespace_(in.ns);
  out->set_admin(in.admin);
  out->set_has_password(in.has_password);
  SetTime(in.created, out->mutable_created());
  if (in.last_login.has_value()) SetTime(*in.last_login, out->mutable_last_login());
  out->set_active_sessions(in.active_sessions);
  for (const auto& [k, v] : in.quota) (*out->mutable_quota())[k] = v;
}

AuthenticatorService::AuthenticatorService(Authenticator& auth, TrustedProxies trusted_proxies)
    : auth_(auth), trusted_proxies_(std::move(trusted_proxies)) {}

grpc::Status AuthenticatorService::Finish(grpc::ServerContext* context,
                                          const absl::Status& status) {
  if (std::optional<absl::Duration> retry = RetryAfter(status)) {
    context->AddTrailingMetadata("retry-after-seconds",
                                 std::to_string(absl::ToInt64Seconds(*retry)));
  }
  return ToGrpcStatus(status);
}

grpc::Status AuthenticatorService::Login(grpc::ServerContext* context,
                                         const api::LoginRequest* request,
                                         api::LoginResponse* response) {
  absl::StatusOr<Credentials> c = IfValid<Credentials>(Validate(*request), [&] {
    return auth_.Login(ContextOf(*context), request->username(), request->password(),
                       FromProto(request->form()));
  });
  if (c.ok()) {
    response->set_kubeconfig(c->kubeconfig);
    response->set_access_token(c->access.token);
    SetTime(c->access.expiry, response->mutable_access_token_expiry());
    response->set_refresh_token(c->refresh_token);
    SetTime(c->refresh_expiry, response->mutable_refresh_token_expiry());
    response->set_member(c->member);
    response->set_namespace_(c->ns);
  }
  return Finish(context, c.status());
}

grpc::Status AuthenticatorService::Refresh(grpc::ServerContext* context,
                                           const api::RefreshRequest* request,
                                           api::RefreshResponse* response) {
  std::optional<CredentialForm> form;
  if (request->want_kubeconfig()) form = FromProto(request->form());
  absl::StatusOr<Credentials> c = IfValid<Credentials>(Validate(*request), [&] {
    return auth_.Refresh(ContextOf(*context), request->refresh_token(), form);
  });
  if (c.ok()) {
    response->set_access_token(c->access.token);
    SetTime(c->access.expiry, response->mutable_access_token_expiry());
    SetTime(c->refresh_expiry, response->mutable_refresh_token_expiry());
    response->set_kubeconfig(c->kubeconfig);
    response->set_member(c->member);
    response->set_namespace_(c->ns);
  }
  return Finish(context, c.status());
}

grpc::Status AuthenticatorService::Logout(grpc::ServerContext* context,
                                          const api::LogoutRequest* request, api::LogoutResponse*) {
  absl::Status s = Validate(*request);
  if (s.ok()) s = auth_.Logout(ContextOf(*context), request->refresh_token());
  return Finish(context, s);
}

grpc::Status AuthenticatorService::CreateMember(grpc::ServerContext* context,
                                                const api::CreateMemberRequest* request,
                                                api::Member* response) {
  MemberSpec spec{request->name(), {}, request->admin()};
  for (const auto& [k, v] : request->quota()) spec.quota[k] = v;
  absl::StatusOr<MemberInfo> m = IfValid<MemberInfo>(Validate(*request), [&] {
    return auth_.CreateMember(ContextOf(*context), spec, request->password());
  });
  if (m.ok()) ToProto(*m, response);
  return Finish(context, m.status());
}

grpc::Status AuthenticatorService::DeleteMember(grpc::ServerContext* context,
                                                const api::DeleteMemberRequest* request,
                                                api::DeleteMemberResponse* response) {
  absl::StatusOr<int> revoked = IfValid<int>(Validate(*request), [&] {
    return auth_.DeleteMember(ContextOf(*context), request->name(), request->delete_namespace());
  });
  if (revoked.ok()) response->set_revoked_sessions(*revoked);
  return Finish(context, revoked.status());
}

grpc::Status AuthenticatorService::SetPassword(grpc::ServerContext* context,
                                               const api::SetPasswordRequest* request,
                                               api::SetPasswordResponse*) {
  absl::Status s = Validate(*request);
  if (s.ok()) {
    s = auth_.SetPassword(ContextOf(*context), request->name(), request->new_password(),
                          request->old_password());
  }
  return Finish(context, s);
}

grpc::Status AuthenticatorService::ListMembers(grpc::ServerContext* context,
                                               const api::ListMembersRequest*,
                                               api::ListMembersResponse* response) {
  absl::StatusOr<std::vector<MemberInfo>> list = auth_.ListMembers(ContextOf(*context));
  if (list.ok()) {
    for (const MemberInfo& m : *list) ToProto(m, response->add_members());
  }
  return Finish(context, list.status());
}

grpc::Status AuthenticatorService::IssueKubeconfig(grpc::ServerContext* context,
                                                   const api::IssueKubeconfigRequest* request,
                                                   api::IssueKubeconfigResponse* response) {
  absl::StatusOr<IssuedKubeconfig> k = IfValid<IssuedKubeconfig>(Validate(*request), [&] {
    return auth_.IssueKubeconfig(ContextOf(*context), request->namespace_(),
                                 request->service_account(),
                                 absl::Seconds(request->expiration_seconds()));
  });
  if (k.ok()) {
    response->set_kubeconfig(k->kubeconfig);
    SetTime(k->expiry, response->mutable_expiry());
  }
  return Finish(context, k.status());
}

}  // namespace labkube::authenticator
