#include "services/gateway/gateway_service.h"

#include <arpa/inet.h>
#include <grpc/grpc_security_constants.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "lib/contract.h"
#include "lib/grpc_status.h"
#include "lib/kube/absl_compat.h"
#include "lib/log.h"
#include "lib/names.h"
#include "lib/service/call_interceptor.h"
#include "lib/status_macros.h"
#include "services/gateway/queue_view.h"

namespace labkube::gateway {

using names::CheckDnsLabel;
using names::CheckLength;

namespace {

constexpr size_t kMaxPassword = 1024;
constexpr size_t kMaxToken = 16 * 1024;
constexpr int kMaxQuotaEntries = 32;
constexpr absl::Duration kStreamPoll = absl::Seconds(1);

absl::Status CheckPassword(std::string_view field, const std::string& value, bool required) {
  if (required && value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is required"));
  }
  return CheckLength(field, value, kMaxPassword);
}

absl::Status CheckToken(std::string_view field, const std::string& value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(field), " is required"));
  return CheckLength(field, value, kMaxToken);
}

absl::Status CheckQuota(const google::protobuf::Map<std::string, std::string>& quota) {
  if (quota.size() > kMaxQuotaEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("quota: at most ", kMaxQuotaEntries, " entries"));
  }
  for (const auto& [k, v] : quota) {
    LK_RETURN_IF_ERROR(CheckLength("quota key", k, 253));
    LK_RETURN_IF_ERROR(CheckLength(absl::StrCat("quota[", k, "]"), v, 64));
  }
  return absl::OkStatus();
}

// Whether call `c` came over the gRPC server's in-process channel (only the web page uses it):
// it has no network peer address and no transport security type. Every port the gateway
// listens on has credentials (TLS, or insecure on loopback), which name one.
bool InProcess(const grpc::ServerContext& c) {
  const std::string peer = c.peer();
  for (const char* network : {"ipv4:", "ipv6:", "unix:"}) {
    if (absl::StartsWith(peer, network)) return false;
  }
  std::shared_ptr<const grpc::AuthContext> auth = c.auth_context();
  return auth == nullptr ||
         auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME).empty();
}

// Call `c`'s client address: its gRPC peer, or, for the web page's in-process calls, the
// browser's address the web server sent in kWebClientAddressMetadata, as a gRPC peer without a
// port ("ipv4:10.0.0.7", "ipv6:[::1]"). That metadata from a remote caller never counts (it
// could pick its own lockout key); one that is not an IP address is ignored.
std::string CallerPeer(const grpc::ServerContext& c) {
  std::string peer = c.peer();
  if (!InProcess(c)) return peer;
  auto it = c.client_metadata().find(contract::kWebClientAddressMetadata);
  if (it == c.client_metadata().end()) return peer;
  const std::string address(it->second.data(), it->second.size());
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return absl::StrCat("ipv4:", address);
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return absl::StrCat("ipv6:[", address, "]");
  return peer;
}

}  // namespace

GatewayService::GatewayService(GatewayDeps deps)
    : deps_(std::move(deps)),
      unary_(deps_.calls_total, deps_.calls_per_member, "calls in progress") {}

grpc::Status GatewayService::Run(Ctx* c, const char* /*method: the interceptor names it*/,
                                 const std::function<absl::Status(std::string& who)>& body,
                                 Kind kind) {
  {
    absl::MutexLock lock(&calls_mu_);
    calls_.erase(c);
    calls_.emplace(c, CallState{kind, std::nullopt});
  }
  std::string who;
  absl::Status s = body(who);
  {
    absl::MutexLock lock(&calls_mu_);
    calls_.erase(c);  // gives the call's slot back
  }
  service::AddCallLogField(c, "member", who);  // on the interceptor's line for this call
  return ToGrpcStatus(s);
}

CallMeta GatewayService::Meta(Ctx* c) {
  CallMeta meta;
  auto it = c->client_metadata().find("authorization");
  if (it != c->client_metadata().end())
    meta.authorization.assign(it->second.data(), it->second.size());
  meta.peer = CallerPeer(*c);
  if (c->deadline() != std::chrono::system_clock::time_point::max()) {
    meta.deadline = absl::FromChrono(c->deadline());
  }
  return meta;
}

absl::StatusOr<Caller> GatewayService::Authenticate(Ctx* c) {
  LK_ASSIGN_OR_RETURN(Caller caller, deps_.access.Authenticate(Meta(c).authorization));
  LK_RETURN_IF_ERROR(HoldCallSlot(c, caller.member));
  return caller;
}

absl::Status GatewayService::HoldCallSlot(Ctx* c, const std::string& member) {
  absl::MutexLock lock(&calls_mu_);
  auto it = calls_.find(c);
  if (it == calls_.end() || it->second.kind != Kind::kUnary || it->second.slot.has_value()) {
    return absl::OkStatus();
  }
  LK_ASSIGN_OR_RETURN(CallLimiter::Slot slot, unary_.Acquire(member));
  it->second.slot.emplace(std::move(slot));
  return absl::OkStatus();
}

absl::StatusOr<Target> GatewayService::TargetOf(Ctx* c, const std::string& member,
                                                std::string& who) {
  LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
  who = caller.member;
  return deps_.access.Resolve(caller, member);
}

absl::StatusOr<Caller> GatewayService::RequireAdmin(Ctx* c, std::string_view what,
                                                    std::string& who) {
  LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
  who = caller.member;
  if (!caller.admin) {
    return absl::PermissionDeniedError(absl::StrCat("not allowed: only admins may ", ToAbsl(what),
                                                    " (you are ", caller.member, ")"));
  }
  return caller;
}

// --- Sessions ---

grpc::Status GatewayService::Login(Ctx* c, const gw::LoginRequest* r, gw::LoginResponse* out) {
  return Run(c, "Login", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckDnsLabel("username", r->username()));
    LK_RETURN_IF_ERROR(CheckPassword("password", r->password(), true));
    who = r->username();
    CallMeta meta = Meta(c);
    meta.authorization.clear();
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.Login(*r, meta));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::Refresh(Ctx* c, const gw::RefreshRequest* r,
                                     gw::RefreshResponse* out) {
  return Run(c, "Refresh", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckToken("refresh_token", r->refresh_token()));
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.Refresh(*r, Meta(c)));
    who = out->member();
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::Logout(Ctx* c, const gw::LogoutRequest* r, gw::LogoutResponse* out) {
  return Run(c, "Logout", [&](std::string&) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckToken("refresh_token", r->refresh_token()));
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.Logout(*r, Meta(c)));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::WhoAmI(Ctx* c, const gw::WhoAmIRequest*, gw::WhoAmIResponse* out) {
  return Run(c, "WhoAmI", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
    who = caller.member;
    out->set_member(caller.member);
    out->set_namespace_(caller.ns);
    out->set_admin(caller.admin);
    out->set_username(caller.username);
    return absl::OkStatus();
  });
}

// --- Members ---

grpc::Status GatewayService::CreateMember(Ctx* c, const gw::CreateMemberRequest* r,
                                          gw::Member* out) {
  return Run(c, "CreateMember", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckDnsLabel("name", r->name()));
    LK_RETURN_IF_ERROR(CheckPassword("password", r->password(), false));
    LK_RETURN_IF_ERROR(CheckQuota(r->quota()));
    LK_RETURN_IF_ERROR(RequireAdmin(c, "create members", who).status());
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.CreateMember(*r, Meta(c)));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::DeleteMember(Ctx* c, const gw::DeleteMemberRequest* r,
                                          gw::DeleteMemberResponse* out) {
  return Run(c, "DeleteMember", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckDnsLabel("name", r->name()));
    LK_RETURN_IF_ERROR(RequireAdmin(c, "delete members", who).status());
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.DeleteMember(*r, Meta(c)));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::SetPassword(Ctx* c, const gw::SetPasswordRequest* r,
                                         gw::SetPasswordResponse* out) {
  return Run(c, "SetPassword", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckPassword("new_password", r->new_password(), true));
    LK_RETURN_IF_ERROR(CheckPassword("old_password", r->old_password(), false));
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->name(), who));
    gw::SetPasswordRequest forwarded = *r;
    forwarded.set_name(target.member);
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.SetPassword(forwarded, Meta(c)));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::ListMembers(Ctx* c, const gw::ListMembersRequest* r,
                                         gw::ListMembersResponse* out) {
  return Run(c, "ListMembers", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(RequireAdmin(c, "list members", who).status());
    LK_ASSIGN_OR_RETURN(*out, deps_.auth.ListMembers(*r, Meta(c)));
    return absl::OkStatus();
  });
}

// --- Availability ---

grpc::Status GatewayService::ListMachineTypes(Ctx* c, const gw::ListMachineTypesRequest* r,
                                              gw::ListMachineTypesResponse* out) {
  return Run(c, "ListMachineTypes", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckLength("group", r->group(), 63));
    LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
    who = caller.member;
    LK_ASSIGN_OR_RETURN(AvailabilitySnapshot snap, deps_.availability.Current());
    for (gw::MachineType& t : FilterGroup(snap.types, r->group())) {
      *out->add_machine_types() = std::move(t);
    }
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::WatchMachineTypes(
    Ctx* c, const gw::ListMachineTypesRequest* r,
    grpc::ServerWriter<gw::ListMachineTypesResponse>* writer) {
  return Run(
      c, "WatchMachineTypes",
      [&](std::string& who) -> absl::Status {
        LK_RETURN_IF_ERROR(CheckLength("group", r->group(), 63));
        LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
        who = caller.member;
        LK_ASSIGN_OR_RETURN(CallLimiter::Slot slot, streams_.Acquire(caller.member));
        LK_ASSIGN_OR_RETURN(AvailabilitySnapshot snap, deps_.availability.Current());
        auto send = [&](const AvailabilitySnapshot& s) {
          gw::ListMachineTypesResponse update;
          for (gw::MachineType& t : FilterGroup(s.types, r->group())) {
            *update.add_machine_types() = std::move(t);
          }
          return writer->Write(update);
        };
        if (!send(snap)) return absl::OkStatus();
        uint64_t sent = snap.version;
        while (!c->IsCancelled() && !deps_.shutting_down()) {
          AvailabilitySnapshot next = deps_.availability.WaitNewer(sent, kStreamPoll);
          if (next.version == sent || next.version == 0) continue;
          if (!send(next)) break;
          sent = next.version;
        }
        return absl::OkStatus();
      },
      Kind::kStream);
}

grpc::Status GatewayService::GetQueue(Ctx* c, const gw::GetQueueRequest* r, gw::Queue* out) {
  return Run(c, "GetQueue", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Caller caller, Authenticate(c));
    who = caller.member;
    LK_ASSIGN_OR_RETURN(AvailabilitySnapshot snap, deps_.availability.Current());
    LK_ASSIGN_OR_RETURN(gw::MachineType type, ResolveMachineType(snap.types, r->machine_type()));
    LK_ASSIGN_OR_RETURN(gw::Queue line, deps_.availability.Queue(type));
    *out = QueueView(line, caller, deps_.access.namespace_prefix());
    return absl::OkStatus();
  });
}

// --- Storage ---

grpc::Status GatewayService::CreateStorage(Ctx* c, const gw::CreateStorageRequest* r,
                                           gw::Storage* out) {
  return Run(c, "CreateStorage", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(*out, deps_.storage.Create(target, r->size(), r->backup_size()));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::ResizeStorage(Ctx* c, const gw::ResizeStorageRequest* r,
                                           gw::Storage* out) {
  return Run(c, "ResizeStorage", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(*out, deps_.storage.Resize(target, r->volume(), r->size()));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::DeleteStorage(Ctx* c, const gw::DeleteStorageRequest* r,
                                           gw::DeleteStorageResponse* out) {
  return Run(c, "DeleteStorage", [&](std::string& who) -> absl::Status {
    LK_RETURN_IF_ERROR(CheckLength("confirm", r->confirm(), 63));
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(std::vector<std::string> deleted,
                        deps_.storage.Delete(target, r->confirm(), r->keep_backup()));
    for (std::string& d : deleted) out->add_deleted(std::move(d));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::ListStorage(Ctx* c, const gw::ListStorageRequest* r,
                                         gw::Storage* out) {
  return Run(c, "ListStorage", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(*out, deps_.storage.Get(target));
    return absl::OkStatus();
  });
}

// --- Workspaces ---

grpc::Status GatewayService::StartWorkspace(Ctx* c, const gw::StartWorkspaceRequest* r,
                                            gw::Workspace* out) {
  return Run(c, "StartWorkspace", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(*out, deps_.workspaces.Start(target, *r));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::StopWorkspace(Ctx* c, const gw::StopWorkspaceRequest* r,
                                           gw::StopWorkspaceResponse* out) {
  return Run(c, "StopWorkspace", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(std::vector<std::string> deleted, deps_.workspaces.Stop(target, r->name()));
    for (std::string& d : deleted) out->add_deleted(std::move(d));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::ListWorkspaces(Ctx* c, const gw::ListWorkspacesRequest* r,
                                            gw::ListWorkspacesResponse* out) {
  return Run(c, "ListWorkspaces", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(std::vector<gw::Workspace> list, deps_.workspaces.List(target));
    for (gw::Workspace& w : list) *out->add_workspaces() = std::move(w);
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::DescribeWorkspace(Ctx* c, const gw::DescribeWorkspaceRequest* r,
                                               gw::Workspace* out) {
  return Run(c, "DescribeWorkspace", [&](std::string& who) -> absl::Status {
    LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
    LK_ASSIGN_OR_RETURN(*out, deps_.workspaces.Describe(target, r->name()));
    return absl::OkStatus();
  });
}

grpc::Status GatewayService::WatchWorkspace(Ctx* c, const gw::DescribeWorkspaceRequest* r,
                                            grpc::ServerWriter<gw::Workspace>* writer) {
  return Run(
      c, "WatchWorkspace",
      [&](std::string& who) -> absl::Status {
        LK_ASSIGN_OR_RETURN(Target target, TargetOf(c, r->member(), who));
        LK_ASSIGN_OR_RETURN(CallLimiter::Slot slot, streams_.Acquire(who));
        return deps_.workspaces.Watch(
            target, r->name(), [&](const gw::Workspace& w) { return writer->Write(w); },
            [&] { return c->IsCancelled() || deps_.shutting_down(); });
      },
      Kind::kStream);
}

}  // namespace labkube::gateway
