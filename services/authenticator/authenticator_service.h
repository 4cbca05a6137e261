// AuthenticatorService: the gRPC face of the authenticator (labkube.auth.v1alpha1.Authenticator).
// Each handler validates the request (INVALID_ARGUMENT naming the field), takes the caller's
// `authorization` metadata and client address (the gRPC peer, or the right-most `x-forwarded-for`
// entry when the peer is one of `trusted_proxies`: see client_address.h), calls Authenticator,
// and maps the result once (ToGrpcStatus). A lockout answer carries the `retry-after-seconds`
// trailer. Calls are counted, timed and logged by the server's call interceptor
// (lib/service/call_interceptor.h: labkube_authenticator_calls_total{method,code},
// labkube_authenticator_call_seconds{method}).
//
// Borrows the Authenticator. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_

#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "services/authenticator/authenticator.h"
#include "services/authenticator/client_address.h"

namespace labkube::authenticator {

namespace api = ::labkube::auth::v1alpha1;

class AuthenticatorService final : public api::Authenticator::Service {
 public:
  // `trusted_proxies`: peers whose x-forwarded-for is honoured (default: nobody).
  explicit AuthenticatorService(Authenticator& auth, TrustedProxies trusted_proxies = {});

  grpc::Status Login(grpc::ServerContext* context, const api::LoginRequest* request,
                     api::LoginResponse* response) override;
  grpc::Status Refresh(grpc::ServerContext* context, const api::RefreshRequest* request,
                       api::RefreshResponse* response) override;
  grpc::Status Logout(grpc::ServerContext* context, const api::LogoutRequest* request,
                      api::LogoutResponse* response) override;
  grpc::Status CreateMember(grpc::ServerContext* context, const api::CreateMemberRequest* request,
                            api::Member* response) override;
  grpc::Status DeleteMember(grpc::ServerContext* context, const api::DeleteMemberRequest* request,
                            api::DeleteMemberResponse* response) override;
  grpc::Status SetPassword(grpc::ServerContext* context, const api::SetPasswordRequest* request,
                           api::SetPasswordResponse* response) override;
  grpc::Status ListMembers(grpc::ServerContext* context, const api::ListMembersRequest* request,
                           api::ListMembersResponse* response) override;
  grpc::Status IssueKubeconfig(grpc::ServerContext* context,
                               const api::IssueKubeconfigRequest* request,
                               api::IssueKubeconfigResponse* response) override;

 private:
  // Adds the retry trailer, maps the status.
  grpc::Status Finish(grpc::ServerContext* context, const absl::Status& status);
  // The caller's authorization metadata and client address.
  RequestContext ContextOf(const grpc::ServerContext& context) const;

  Authenticator& auth_;
  const TrustedProxies trusted_proxies_;
};

// Domain -> proto.
void ToProto(const MemberInfo& in, api::Member* out);
CredentialForm FromProto(api::KubeconfigForm form);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_
