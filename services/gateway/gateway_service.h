// GatewayService: the gRPC face of the gateway (labkube.gateway.v1alpha1.Gateway). Each handler
// checks field sizes, authenticates the caller (all but Login/Refresh/Logout), picks the member
// it acts for (Access), calls one of the plain classes (AuthForwarder, Availability,
// StorageManager, WorkspaceManager) and maps the result once (ToGrpcStatus). Every call is
// counted (labkube_gateway_requests_total{method,code}), timed and logged as one line (method,
// member, code, latency; never tokens or passwords).
//
// Borrows every dependency. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
#define LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/metrics.h"
#include "lib/stream_limiter.h"
#include "services/gateway/access.h"
#include "services/gateway/auth_forwarder.h"
#include "services/gateway/availability.h"
#include "services/gateway/storage_manager.h"
#include "services/gateway/workspace_manager.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

struct GatewayDeps {
  Access& access;
  AuthForwarder& auth;
  Availability& availability;
  StorageManager& storage;
  WorkspaceManager& workspaces;
  metrics::Registry& registry;
  std::function<bool()> shutting_down;  // ends streams when true
};

class GatewayService final : public gw::Gateway::Service {
 public:
  explicit GatewayService(GatewayDeps deps);

  using Ctx = grpc::ServerContext;
  grpc::Status Login(Ctx* c, const gw::LoginRequest* r, gw::LoginResponse* out) override;
  grpc::Status Refresh(Ctx* c, const gw::RefreshRequest* r, gw::RefreshResponse* out) override;
  grpc::Status Logout(Ctx* c, const gw::LogoutRequest* r, gw::LogoutResponse* out) override;
  grpc::Status WhoAmI(Ctx* c, const gw::WhoAmIRequest* r, gw::WhoAmIResponse* out) override;
  grpc::Status CreateMember(Ctx* c, const gw::CreateMemberRequest* r, gw::Member* out) override;
  grpc::Status DeleteMember(Ctx* c, const gw::DeleteMemberRequest* r,
                            gw::DeleteMemberResponse* out) override;
  grpc::Status SetPassword(Ctx* c, const gw::SetPasswordRequest* r,
                           gw::SetPasswordResponse* out) override;
  grpc::Status ListMembers(Ctx* c, const gw::ListMembersRequest* r,
                           gw::ListMembersResponse* out) override;
  grpc::Status ListMachineTypes(Ctx* c, const gw::ListMachineTypesRequest* r,
                                gw::ListMachineTypesResponse* out) override;
  grpc::Status WatchMachineTypes(Ctx* c, const gw::ListMachineTypesRequest* r,
                                 grpc::ServerWriter<gw::ListMachineTypesResponse>* w) override;
  grpc::Status CreateStorage(Ctx* c, const gw::CreateStorageRequest* r, gw::Storage* out) override;
  grpc::Status ResizeStorage(Ctx* c, const gw::ResizeStorageRequest* r, gw::Storage* out) override;
  grpc::Status DeleteStorage(Ctx* c, const gw::DeleteStorageRequest* r,
                             gw::DeleteStorageResponse* out) override;
  grpc::Status ListStorage(Ctx* c, const gw::ListStorageRequest* r, gw::Storage* out) override;
  grpc::Status StartWorkspace(Ctx* c, const gw::StartWorkspaceRequest* r,
                              gw::Workspace* out) override;
  grpc::Status StopWorkspace(Ctx* c, const gw::StopWorkspaceRequest* r,
                             gw::StopWorkspaceResponse* out) override;
  grpc::Status ListWorkspaces(Ctx* c, const gw::ListWorkspacesRequest* r,
                              gw::ListWorkspacesResponse* out) override;
  grpc::Status DescribeWorkspace(Ctx* c, const gw::DescribeWorkspaceRequest* r,
                                 gw::Workspace* out) override;
  grpc::Status WatchWorkspace(Ctx* c, const gw::DescribeWorkspaceRequest* r,
                              grpc::ServerWriter<gw::Workspace>* w) override;

 private:
  // Runs `body` (which may set `who` for the log), then counts, logs and maps its status.
  grpc::Status Run(Ctx* c, const char* method,
                   const std::function<absl::Status(std::string& who)>& body);
  absl::StatusOr<Caller> Authenticate(Ctx* c);
  // Authenticate + Resolve(member).
  absl::StatusOr<Target> TargetOf(Ctx* c, const std::string& member, std::string& who);
  absl::StatusOr<Caller> RequireAdmin(Ctx* c, std::string_view what, std::string& who);
  CallMeta Meta(Ctx* c);

  GatewayDeps deps_;
  metrics::CounterFamily* requests_;
  metrics::HistogramFamily* latency_;
  // Watch* streams hold a server thread each (max_threads 256 by default): bounded in all and
  // per member, so idle streams cannot starve the other calls.
  StreamLimiter streams_{/*total=*/128, /*per_caller=*/8};
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
