#include "services/gateway/auth_forwarder.h"

#include <grpcpp/client_context.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "lib/grpc_status.h"

namespace labkube::gateway {
namespace {

namespace auth = ::labkube::auth::v1alpha1;
using Stub = auth::Authenticator::Stub;

// "ipv4:10.0.0.7:51234" -> "10.0.0.7"; "ipv6:[::1]:5" -> "::1"; anything else as is.
std::string PeerHost(const std::string& peer) {
  std::string s = peer;
  for (const char* scheme : {"ipv4:", "ipv6:"}) {
    if (s.rfind(scheme, 0) == 0) s = s.substr(5);
  }
  if (!s.empty() && s.front() == '[') {
    size_t end = s.find(']');
    return end == std::string::npos ? s : s.substr(1, end - 1);
  }
  size_t colon = s.rfind(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

template <typename Req, typename Resp>
absl::Status Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                  const Req& request, Resp* response, const CallMeta& meta,
                  absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!meta.authorization.empty()) context.AddMetadata("authorization", meta.authorization);
  if (!meta.peer.empty()) context.AddMetadata("x-forwarded-for", PeerHost(meta.peer));
  grpc::Status s = (stub.*method)(&context, request, response);
  if (s.ok()) return absl::OkStatus();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat("the authenticator is unavailable (",
                                               s.error_message(), "); try again shortly"));
  }
  return FromGrpcStatus(s);
}

void ToGateway(const auth::Member& in, gw::Member* out) {
  out->set_name(in.name());
  out->set_namespace_(in.namespace_());
  out->set_admin(in.admin());
  out->set_has_password(in.has_password());
  if (in.has_created()) *out->mutable_created() = in.created();
  if (in.has_last_login()) *out->mutable_last_login() = in.last_login();
  out->set_active_sessions(in.active_sessions());
  out->mutable_quota()->insert(in.quota().begin(), in.quota().end());
}

}  // namespace

GrpcAuthForwarder::GrpcAuthForwarder(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(auth::Authenticator::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<gw::LoginResponse> GrpcAuthForwarder::Login(const gw::LoginRequest& r,
                                                           const CallMeta& m) {
  auth::LoginRequest req;
  req.set_username(r.username());
  req.set_password(r.password());
  req.set_form(static_cast<auth::KubeconfigForm>(r.form()));
  auth::LoginResponse resp;
  if (absl::Status s = Call(*stub_, &Stub::Login, req, &resp, m, timeout_); !s.ok()) return s;
  gw::LoginResponse out;
  out.set_kubeconfig(resp.kubeconfig());
  out.set_access_token(resp.access_token());
  *out.mutable_access_token_expiry() = resp.access_token_expiry();
  out.set_refresh_token(resp.refresh_token());
  *out.mutable_refresh_token_expiry() = resp.refresh_token_expiry();
  out.set_member(resp.member());
  out.set_namespace_(resp.namespace_());
  return out;
}

absl::StatusOr<gw::RefreshResponse> GrpcAuthForwarder::Refresh(const gw::RefreshRequest& r,
                                                               const CallMeta& m) {
  auth::RefreshRequest req;
  req.set_refresh_token(r.refresh_token());
  req.set_want_kubeconfig(r.want_kubeconfig());
  req.set_form(static_cast<auth::KubeconfigForm>(r.form()));
  auth::RefreshResponse resp;
  if (absl::Status s = Call(*stub_, &Stub::Refresh, req, &resp, m, timeout_); !s.ok()) return s;
  gw::RefreshResponse out;
  out.set_access_token(resp.access_token());
  *out.mutable_access_token_expiry() = resp.access_token_expiry();
  *out.mutable_refresh_token_expiry() = resp.refresh_token_expiry();
  out.set_kubeconfig(resp.kubeconfig());
  out.set_member(resp.member());
  out.set_namespace_(resp.namespace_());
  return out;
}

absl::StatusOr<gw::LogoutResponse> GrpcAuthForwarder::Logout(const gw::LogoutRequest& r,
                                                             const CallMeta& m) {
  auth::LogoutRequest req;
  req.set_refresh_token(r.refresh_token());
  auth::LogoutResponse resp;
  if (absl::Status s = Call(*stub_, &Stub::Logout, req, &resp, m, timeout_); !s.ok()) return s;
  return gw::LogoutResponse();
}

absl::StatusOr<gw::Member> GrpcAuthForwarder::CreateMember(const gw::CreateMemberRequest& r,
                                                           const CallMeta& m) {
  auth::CreateMemberRequest req;
  req.set_name(r.name());
  req.mutable_quota()->insert(r.quota().begin(), r.quota().end());
  req.set_password(r.password());
  req.set_admin(r.admin());
  auth::Member resp;
  if (absl::Status s = Call(*stub_, &Stub::CreateMember, req, &resp, m, timeout_); !s.ok()) {
    return s;
  }
  gw::Member out;
  ToGateway(resp, &out);
  return out;
}

absl::StatusOr<gw::DeleteMemberResponse> GrpcAuthForwarder::DeleteMember(
    const gw::DeleteMemberRequest& r, const CallMeta& m) {
  auth::DeleteMemberRequest req;
  req.set_name(r.name());
  req.set_delete_namespace(r.delete_namespace());
  auth::DeleteMemberResponse resp;
  if (absl::Status s = Call(*stub_, &Stub::DeleteMember, req, &resp, m, timeout_); !s.ok()) {
    return s;
  }
  gw::DeleteMemberResponse out;
  out.set_revoked_sessions(resp.revoked_sessions());
  return out;
}

absl::StatusOr<gw::SetPasswordResponse> GrpcAuthForwarder::SetPassword(
    const gw::SetPasswordRequest& r, const CallMeta& m) {
  auth::SetPasswordRequest req;
  req.set_name(r.name());
  req.set_new_password(r.new_password());
  req.set_old_password(r.old_password());
  auth::SetPasswordResponse resp;
  if (absl::Status s = Call(*stub_, &Stub::SetPassword, req, &resp, m, timeout_); !s.ok()) {
    return s;
  }
  return gw::SetPasswordResponse();
}

absl::StatusOr<gw::ListMembersResponse> GrpcAuthForwarder::ListMembers(
    const gw::ListMembersRequest& r, const CallMeta& m) {
  auth::ListMembersResponse resp;
  if (absl::Status s =
          Call(*stub_, &Stub::ListMembers, auth::ListMembersRequest(), &resp, m, timeout_);
      !s.ok()) {
    return s;
  }
  gw::ListMembersResponse out;
  for (const auth::Member& member : resp.members()) ToGateway(member, out.add_members());
  return out;
}

}  // namespace labkube::gateway
