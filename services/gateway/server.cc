#include "services/gateway/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>

#include "lib/grpc_server.h"
#include "lib/log.h"
#include "lib/service/endpoints.h"
#include "lib/service/kube_client.h"
#include "lib/status_macros.h"
#include "lib/tls.h"
#include "services/gateway/access.h"
#include "services/gateway/auth_forwarder.h"
#include "services/gateway/gateway_service.h"
#include "services/gateway/scheduler_availability.h"
#include "services/gateway/token_reviewer.h"
#include "services/gateway/workspace_controller.h"
#include "services/gateway/web/web_server.h"

namespace labkube::gateway {

constexpr char kServiceName[] = "labkube.gateway.v1alpha1.Gateway";

// Declaration order is construction order; destruction runs in reverse (servers first).
struct Server::Parts {
  Options options;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<KubeTokenReviewer> reviewer;
  std::unique_ptr<Access> access;
  std::unique_ptr<SchedulerAvailability> availability;
  std::unique_ptr<GrpcAuthForwarder> auth;
  std::unique_ptr<StorageManager> storage;
  std::unique_ptr<WorkspaceManager> workspaces;
  std::unique_ptr<ElectedWorkspaceController> workspace_controller;  // nullptr when disabled
  std::unique_ptr<GatewayService> service;
  std::unique_ptr<service::Endpoints> endpoints;  // gRPC + /metrics, /healthz, /readyz
  std::unique_ptr<web::WebServer> web;  // calls the gRPC service in-process
  std::atomic<bool> shut_down{false};
};

namespace {

absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(const std::string& target,
                                                          const std::string& ca, bool plaintext,
                                                          const Options& o) {
  if (plaintext) return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  LK_ASSIGN_OR_RETURN(auto creds, ChannelCredentialsFromFiles(ca, o.client_cert, o.client_key));
  return grpc::CreateChannel(target, creds);
}

// The gRPC port (every call counted and logged by the call interceptor, with the member the
// handler acted for) and the HTTPS endpoint (ready while serving).
absl::Status StartEndpoints(Server::Parts& p) {
  LK_ASSIGN_OR_RETURN(p.endpoints,
                      service::Endpoints::Start({.grpc = service::GrpcOptionsOf(p.options),
                                                 .services = {p.service.get()},
                                                 .api_service = kServiceName,
                                                 .metric_prefix = "labkube_gateway",
                                                 .http = service::HttpOptionsOf(p.options)}));
  return absl::OkStatus();
}

absl::Status StartWeb(Server::Parts& p, Clock& clock) {
  if (p.options.web_port < 0) return absl::OkStatus();
  web::WebOptions wo{.address = p.options.http_address,
                     .port = p.options.web_port,
                     .tls_cert = p.options.tls_cert,
                     .tls_key = p.options.tls_key,
                     .plaintext = p.options.plaintext,
                     .history = {}};
  LK_ASSIGN_OR_RETURN(p.web, web::WebServer::Create(wo, p.endpoints->grpc()->InProcessChannel(),
                                                    *p.availability, clock));
  return p.web->Start();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  LK_ASSIGN_OR_RETURN(auto client, service::NewKubeClient(options.kubeconfig));
  LK_ASSIGN_OR_RETURN(auto scheduler, NewChannel(options.scheduler, options.scheduler_ca,
                                                 options.scheduler_plaintext, options));
  LK_ASSIGN_OR_RETURN(auto authenticator,
                      NewChannel(options.authenticator, options.authenticator_ca,
                                 options.authenticator_plaintext, options));
  return Create(options, std::move(client), Clock::Real(), std::move(scheduler),
                std::move(authenticator));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const Options& options, std::unique_ptr<kube::Client> client, Clock& clock,
    std::shared_ptr<grpc::Channel> scheduler, std::shared_ptr<grpc::Channel> authenticator) {
  LK_RETURN_IF_ERROR(service::CheckServiceOptions(options));
  LK_RETURN_IF_ERROR(SetLogLevel(options.log_level));
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->client = std::move(client);
  p->reviewer = std::make_unique<KubeTokenReviewer>(
      *p->client, clock, TokenReviewOptions{options.namespace_prefix, options.token_cache_ttl});
  p->access = std::make_unique<Access>(*p->reviewer, options.namespace_prefix);
  SchedulerAvailabilityOptions so;
  so.call_timeout = options.upstream_timeout;
  p->availability = std::make_unique<SchedulerAvailability>(std::move(scheduler), so);
  p->auth = std::make_unique<GrpcAuthForwarder>(std::move(authenticator), options.upstream_timeout);
  p->storage = std::make_unique<StorageManager>(*p->client, options.storage);
  p->workspaces = std::make_unique<WorkspaceManager>(*p->client, *p->availability, *p->storage,
                                                     clock, options.workspaces);
  Parts* raw = p.get();
  p->service = std::make_unique<GatewayService>(
      GatewayDeps{*p->access, *p->auth, *p->availability, *p->storage, *p->workspaces,
                  [raw] { return raw->shut_down.load(); },
                  options.max_calls, options.max_calls_per_member});
  LK_RETURN_IF_ERROR(StartEndpoints(*p));
  LK_RETURN_IF_ERROR(StartWeb(*p, clock));
  p->availability->Start();
  WorkspaceControllerOptions wc = options.workspace_controller;
  wc.namespace_prefix = options.namespace_prefix;
  LK_ASSIGN_OR_RETURN(p->workspace_controller,
                      ElectedWorkspaceController::Start(*p->client, *p->availability, clock,
                                                        options.workspaces, std::move(wc)));
  LogEvent(LogLevel::kInfo, "gateway.started",
           {{"grpc_port", p->endpoints->grpc_port()},
            {"http_port", p->endpoints->http_port()},
            {"web_port", p->web ? p->web->port() : 0},
            {"tls", !options.plaintext},
            {"scheduler", options.scheduler},
            {"authenticator", options.authenticator}});
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(absl::Now() + absl::Seconds(2)); }

int Server::grpc_port() const { return parts_->endpoints->grpc_port(); }
int Server::http_port() const { return parts_->endpoints->http_port(); }
int Server::web_port() const { return parts_->web ? parts_->web->port() : 0; }

void Server::Shutdown(absl::Time deadline) {
  if (parts_->shut_down.exchange(true)) return;
  parts_->endpoints->Shutdown(deadline);
  if (parts_->web) parts_->web->Stop();
  if (parts_->workspace_controller) parts_->workspace_controller->Stop();
  parts_->availability->Stop();
  LogEvent(LogLevel::kInfo, "gateway.stopped", {});
}

}  // namespace labkube::gateway
