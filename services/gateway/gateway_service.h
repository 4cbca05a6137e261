// GatewayService: the gRPC face of the gateway (labkube.gateway.v1alpha1.Gateway). Each handler
// checks field sizes, authenticates the caller (all but Login/Refresh/Logout), picks the member
// it acts for (Access), calls one of the plain classes (AuthForwarder, Availability,
// StorageManager, WorkspaceManager) and maps the result once (ToGrpcStatus). Every call is
// counted (labkube_gateway_calls_total{method,code}), timed and logged as one line (method,
// member, code, latency; never tokens or passwords) by the server's call interceptor
// (lib/service/call_interceptor.h); the handler adds the member it acted for.
//
// Borrows every dependency. Thread-safe (gRPC calls it from its pool).
#ifndef LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
#define LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "labkube/gateway/v1alpha1/gateway.grpc.pb.h"
#include "lib/metrics.h"
#include "lib/call_limiter.h"
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
  std::function<bool()> shutting_down;  // ends streams when true
  // Unary calls in progress at once, in all and per member (each holds a server thread).
  int calls_total = 128;
  int calls_per_member = 16;
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
  grpc::Status GetQueue(Ctx* c, const gw::GetQueueRequest* r, gw::Queue* out) override;
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
  enum class Kind { kUnary, kStream };
  // Runs `body` (which may set `who` for the log), then counts, logs and maps its status.
  // A unary call holds one of its member's call slots from Authenticate() until it ends.
  grpc::Status Run(Ctx* c, const char* method,
                   const std::function<absl::Status(std::string& who)>& body,
                   Kind kind = Kind::kUnary) ABSL_LOCKS_EXCLUDED(calls_mu_);
  absl::StatusOr<Caller> Authenticate(Ctx* c) ABSL_LOCKS_EXCLUDED(calls_mu_);
  // Takes a unary call slot of `member` for call `c` (no-op for streams and unknown calls).
  absl::Status HoldCallSlot(Ctx* c, const std::string& member) ABSL_LOCKS_EXCLUDED(calls_mu_);
  // Authenticate + Resolve(member).
  absl::StatusOr<Target> TargetOf(Ctx* c, const std::string& member, std::string& who);
  absl::StatusOr<Caller> RequireAdmin(Ctx* c, std::string_view what, std::string& who);
  CallMeta Meta(Ctx* c);

  GatewayDeps deps_;
  // Watch* streams hold a server thread each (max_threads 256 by default): bounded in all and
  // per member, so idle streams cannot starve the other calls.
  CallLimiter streams_{/*total=*/128, /*per_caller=*/8};
  CallLimiter unary_;
  struct CallState {
    Kind kind;
    std::optional<CallLimiter::Slot> slot;
  };
  absl::Mutex calls_mu_;
  std::map<Ctx*, CallState> calls_ ABSL_GUARDED_BY(calls_mu_);
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_GATEWAY_SERVICE_H_
