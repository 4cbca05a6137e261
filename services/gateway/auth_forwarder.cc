#include "services/gateway/auth_forwarder.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/grpc_status.h"
#include "lib/status_macros.h"

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
  context.set_deadline(absl::ToChronoTime(std::min(absl::Now() + timeout, meta.deadline)));
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

// `from` read again as `To`, its twin in the other API. The twins have the same field numbers,
// names and types (auth_forwarder_test.cc fails when they drift apart), hence the same wire
// format, so every field crosses without a list of them to keep up to date. `from`'s unknown
// fields (ones its own API does not define) cross too with keep_unknown: a newer
// authenticator's answers reach newer clients whole; callers' requests go on with only the
// fields the gateway defines (and checked).
template <typename To, typename From>
absl::StatusOr<To> Reread(const From& from, bool keep_unknown) {
  std::string bytes;
  bool serialized;
  if (keep_unknown) {
    serialized = from.SerializeToString(&bytes);
  } else {
    From known = from;
    known.DiscardUnknownFields();  // recursively
    serialized = known.SerializeToString(&bytes);
  }
  To to;
  if (!serialized || !to.ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat("cannot forward ", From::descriptor()->full_name(),
                                            " as ", To::descriptor()->full_name()));
  }
  return to;
}

// The gateway's request `request` as the authenticator's, sent with Call; the answer as the
// gateway's GwResp.
template <typename GwResp, typename GwReq, typename Req, typename Resp>
absl::StatusOr<GwResp> Forward(Stub& stub,
                               grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                                            Resp*),
                               const GwReq& request, const CallMeta& meta, absl::Duration timeout) {
  LK_ASSIGN_OR_RETURN(Req upstream, Reread<Req>(request, /*keep_unknown=*/false));
  Resp response;
  LK_RETURN_IF_ERROR(Call(stub, method, upstream, &response, meta, timeout));
  return Reread<GwResp>(response, /*keep_unknown=*/true);
}

}  // namespace

GrpcAuthForwarder::GrpcAuthForwarder(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(auth::Authenticator::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<gw::LoginResponse> GrpcAuthForwarder::Login(const gw::LoginRequest& r,
                                                           const CallMeta& m) {
  return Forward<gw::LoginResponse>(*stub_, &Stub::Login, r, m, timeout_);
}

absl::StatusOr<gw::RefreshResponse> GrpcAuthForwarder::Refresh(const gw::RefreshRequest& r,
                                                               const CallMeta& m) {
  return Forward<gw::RefreshResponse>(*stub_, &Stub::Refresh, r, m, timeout_);
}

absl::StatusOr<gw::LogoutResponse> GrpcAuthForwarder::Logout(const gw::LogoutRequest& r,
                                                             const CallMeta& m) {
  return Forward<gw::LogoutResponse>(*stub_, &Stub::Logout, r, m, timeout_);
}

absl::StatusOr<gw::Member> GrpcAuthForwarder::CreateMember(const gw::CreateMemberRequest& r,
                                                           const CallMeta& m) {
  return Forward<gw::Member>(*stub_, &Stub::CreateMember, r, m, timeout_);
}

absl::StatusOr<gw::DeleteMemberResponse> GrpcAuthForwarder::DeleteMember(
    const gw::DeleteMemberRequest& r, const CallMeta& m) {
  return Forward<gw::DeleteMemberResponse>(*stub_, &Stub::DeleteMember, r, m, timeout_);
}

absl::StatusOr<gw::SetPasswordResponse> GrpcAuthForwarder::SetPassword(
    const gw::SetPasswordRequest& r, const CallMeta& m) {
  return Forward<gw::SetPasswordResponse>(*stub_, &Stub::SetPassword, r, m, timeout_);
}

absl::StatusOr<gw::ListMembersResponse> GrpcAuthForwarder::ListMembers(
    const gw::ListMembersRequest& r, const CallMeta& m) {
  return Forward<gw::ListMembersResponse>(*stub_, &Stub::ListMembers, r, m, timeout_);
}

}  // namespace labkube::gateway
