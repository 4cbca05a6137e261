// AuthenticatorService: the gRPC face of the authenticator (labkube.auth.v1alpha1.Authenticator).
// Each handler validates the request (INVALID_ARGUMENT naming the field), takes the caller's
// `authorization` metadata and client address (the gRPC peer, or the right-most `x-forwarded-for`
// entry when the peer is one of `trusted_proxies`: see client_address.h), calls Authenticator,
// and maps the result once (ToGrpcStatus). A lockout answer carries the `retry-after-seconds`
// trailer. Metrics: calls by method and code, latency by method.
//
// Borrows the Authenticator and the metrics registry. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_

#include "labkube/auth/v1alpha1/authenticator.grpc.pb.h"
#include "lib/metrics.h"
#include "services/authenticator/authenticator.h"
#include "services/authenticator/client_address.h"

namespace labkube::authenticator {

namespace api = ::labkube::auth::v1alpha1;

class AuthenticatorService final : public api::Authenticator::Service {
 public:
  // `trusted_proxies`: peers whose x-forwarded-for is honoured (default: nobody).
  AuthenticatorService(Authenticator& auth, metrics::Registry& registry,
                       TrustedProxies trusted_proxies = {});

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
  // Records metrics for `method`, adds the retry trailer, maps the status.
  grpc::Status Finish(grpc::ServerContext* context, const char* method, absl::Time start,
                      const absl::Status& status);
  // The caller's authorization metadata and client address.
  RequestContext ContextOf(const grpc::ServerContext& context) const;

  Authenticator& auth_;
  const TrustedProxies trusted_proxies_;
  metrics::CounterFamily* calls_;
  metrics::HistogramFamily* latency_;
};

// Domain -> proto.
void ToProto(const MemberInfo& in, api::Member* out);
CredentialForm FromProto(api::KubeconfigForm form);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_AUTHENTICATOR_SERVICE_H_
