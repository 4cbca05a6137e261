// AuthForwarder: sessions and member administration, which the authenticator owns; the gateway
// only forwards them. GrpcAuthForwarder calls the authenticator (labkube.auth.v1alpha1) with a
// deadline, passes the caller's `authorization` metadata through (the authenticator checks
// admin rights itself) and the caller's address as `x-forwarded-for` (for its per-address
// lockout). Each gateway message has a twin in the authenticator's API with the same fields
// (numbers, names, types; auth_forwarder_test.cc fails when the two protos drift apart), so a
// message crosses by serializing it and parsing the bytes as its twin: no field list to forget
// a new field in. Answers cross whole, fields unknown to the gateway included; requests cross
// with the fields the gateway defines. Errors come back as the authenticator sent them; an
// unreachable authenticator (or one that misses the deadline) is kUnavailable saying so.
//
// Ownership: GrpcAuthForwarder shares the channel. Thread safety: safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_AUTH_FORWARDER_H_
#define LABKUBE_SERVICES_GATEWAY_AUTH_FORWARDER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

// What the gateway knows about the incoming call.
struct CallMeta {
  std::string authorization;  // "Bearer <token>" or ""
  // Client address, e.g. "ipv4:10.0.0.7:51234"; for the web page's calls the browser's
  // ("ipv4:10.0.0.7": gateway_service.cc, CallerPeer).
  std::string peer;
  // The caller's deadline: the authenticator call ends by it, or by the forwarder's own
  // timeout if that comes first.
  absl::Time deadline = absl::InfiniteFuture();
};

class AuthForwarder {
 public:
  virtual ~AuthForwarder() = default;
  virtual absl::StatusOr<gw::LoginResponse> Login(const gw::LoginRequest& r, const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::RefreshResponse> Refresh(const gw::RefreshRequest& r,
                                                      const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::LogoutResponse> Logout(const gw::LogoutRequest& r,
                                                    const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::Member> CreateMember(const gw::CreateMemberRequest& r,
                                                  const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::DeleteMemberResponse> DeleteMember(const gw::DeleteMemberRequest& r,
                                                                const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::SetPasswordResponse> SetPassword(const gw::SetPasswordRequest& r,
                                                              const CallMeta& m) = 0;
  virtual absl::StatusOr<gw::ListMembersResponse> ListMembers(const gw::ListMembersRequest& r,
                                                              const CallMeta& m) = 0;
};

class GrpcAuthForwarder : public AuthForwarder {
 public:
  GrpcAuthForwarder(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  absl::StatusOr<gw::LoginResponse> Login(const gw::LoginRequest& r, const CallMeta& m) override;
  absl::StatusOr<gw::RefreshResponse> Refresh(const gw::RefreshRequest& r,
                                              const CallMeta& m) override;
  absl::StatusOr<gw::LogoutResponse> Logout(const gw::LogoutRequest& r, const CallMeta& m) override;
  absl::StatusOr<gw::Member> CreateMember(const gw::CreateMemberRequest& r,
                                          const CallMeta& m) override;
  absl::StatusOr<gw::DeleteMemberResponse> DeleteMember(const gw::DeleteMemberRequest& r,
                                                        const CallMeta& m) override;
  absl::StatusOr<gw::SetPasswordResponse> SetPassword(const gw::SetPasswordRequest& r,
                                                      const CallMeta& m) override;
  absl::StatusOr<gw::ListMembersResponse> ListMembers(const gw::ListMembersRequest& r,
                                                      const CallMeta& m) override;

 private:
  std::unique_ptr<::labkube::auth::v1alpha1::Authenticator::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_AUTH_FORWARDER_H_
