#include "services/scheduler/server.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "lib/grpc_server.h"
#include "lib/http_server.h"
#include "lib/kube/config.h"
#include "lib/kube/leader_election.h"
#include "lib/kube/rest_client.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/status_macros.h"
#include "services/scheduler/availability.h"
#include "services/scheduler/claim_handler.h"
#include "services/scheduler/claim_key.h"
#include "services/scheduler/claim_signer.h"
#include "services/scheduler/controller.h"
#include "services/scheduler/scheduler_service.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {

constexpr char kServiceName[] = "labkube.scheduler.v1alpha1.Scheduler";

// Declaration order is construction order; destruction runs in reverse (servers first).
struct Server::Parts {
  Options options;
  Clock* clock = nullptr;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<ClaimSigner> signer;
  std::unique_ptr<SchedulerState> state;
  AvailabilityBoard board;
  std::unique_ptr<ClaimHandler> claims;
  std::unique_ptr<kube::LeaderElector> elector;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<SchedulerService> service;
  std::unique_ptr<GrpcServer> grpc;
  std::unique_ptr<HttpServer> http;
  std::atomic<bool> shut_down{false};

  bool Leading() const { return elector == nullptr || elector->IsLeader(); }
  // Why this replica cannot hand out slots yet, or OK.
  absl::Status CanClaim() const {
    if (!controller->HasSynced()) {
      return absl::UnavailableError(
          "the scheduler is starting and has not yet loaded Machines, nodes and pods from the "
          "API server; retry in a moment");
    }
    if (!Leading()) {
      return absl::UnavailableError(
          "this scheduler replica is not the leader; retry (the Service routes to the leader)");
    }
    return absl::OkStatus();
  }
};

namespace {

absl::StatusOr<std::unique_ptr<kube::Client>> NewClient(const Options& o) {
  absl::StatusOr<kube::ClusterConfig> config =
      o.kubeconfig.empty() ? kube::LoadDefault() : kube::LoadKubeconfig(o.kubeconfig);
  if (!config.ok()) return config.status();
  LK_ASSIGN_OR_RETURN(auto client, kube::RestClient::Create(*config));
  return std::unique_ptr<kube::Client>(std::move(client));
}

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

absl::Status StartHttp(Server::Parts& p);

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  LK_ASSIGN_OR_RETURN(auto client, NewClient(options));
  return Create(options, std::move(client), Clock::Real());
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options,
                                                       std::unique_ptr<kube::Client> client,
                                                       Clock& clock) {
  LK_RETURN_IF_ERROR(SetLogLevel(options.log_level));
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->clock = &clock;
  p->client = std::move(client);
  LK_ASSIGN_OR_RETURN(std::string key,
                      LoadOrCreateClaimKey(*p->client, options.reservation_namespace,
                                           options.claim_key_secret));
  LK_ASSIGN_OR_RETURN(ClaimSigner signer, ClaimSigner::Create(std::move(key)));
  p->signer = std::make_unique<ClaimSigner>(std::move(signer));
  p->state = std::make_unique<SchedulerState>(clock, options.claim_ttl,
                                              options.reservation_namespace, *p->signer);
  Parts* parts = p.get();
  p->claims = std::make_unique<ClaimHandler>(*p->client, *p->state, options.reservation_namespace,
                                             [parts] { return parts->Leading(); });
  if (options.leader_elect) {
    kube::LeaderElectionOptions le;
    le.ns = options.lease_namespace;
    le.name = options.lease_name;
    le.identity = options.identity.empty() ? DefaultIdentity() : options.identity;
    p->elector = std::make_unique<kube::LeaderElector>(*p->client, le, clock);
  }
  Parts* raw = p.get();
  ControllerOptions co;
  co.reconciler.reservation = {options.reservation_namespace, options.reservation_image,
                               options.priority_class};
  p->controller = std::make_unique<Controller>(*p->client, *p->state, p->board, clock,
                                               [raw] { return raw->Leading(); },
                                               metrics::DefaultRegistry(), co);
  bool mutual = !options.tls_client_ca.empty() && !options.plaintext;
  SchedulerCallers callers{
      {mutual, {options.claim_clients.begin(), options.claim_clients.end()}},
      {mutual, {options.availability_clients.begin(), options.availability_clients.end()}}};
  if (!mutual) {
    LogEvent(LogLevel::kWarn, "scheduler.no_client_identities",
             {{"why", "no --tls_client_ca: any caller that reaches the gRPC port may Claim"}});
  }
  p->service = std::make_unique<SchedulerService>(*p->claims, p->board,
                                                  [raw] { return raw->CanClaim(); },
                                                  metrics::DefaultRegistry(), std::move(callers));
  GrpcServerOptions go;
  go.address = options.grpc_address;
  go.tls_cert_file = options.tls_cert;
  go.tls_key_file = options.tls_key;
  go.plaintext = options.plaintext;
  go.tls_client_ca_file = options.plaintext ? "" : options.tls_client_ca;
  go.max_threads = options.max_threads;
  LK_ASSIGN_OR_RETURN(p->grpc, GrpcServer::Create(go, {p->service.get()}));
  LK_RETURN_IF_ERROR(StartHttp(*p));
  p->controller->Start();
  if (p->elector != nullptr) p->elector->Start();
  p->grpc->SetServing(kServiceName, true);
  LogEvent(LogLevel::kInfo, "scheduler.started",
           {{"grpc_port", p->grpc->port()}, {"http_port", p->http->port()},
            {"leader_election", options.leader_elect}, {"tls", !options.plaintext},
            {"mutual_tls", mutual}});
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

namespace {

absl::Status StartHttp(Server::Parts& p) {
  HttpServerOptions ho;
  ho.address = p.options.http_address;
  ho.port = p.options.http_port;
  ho.tls_cert_file = p.options.tls_cert;
  ho.tls_key_file = p.options.tls_key;
  ho.allow_plaintext = p.options.plaintext;
  LK_ASSIGN_OR_RETURN(p.http, HttpServer::Create(ho));
  Server::Parts* raw = &p;
  AddMetricsAndHealth(*p.http, metrics::DefaultRegistry(), [raw] {
    return !raw->shut_down.load() && raw->controller->HasSynced() && raw->Leading();
  });
  return p.http->Start();
}

}  // namespace

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(absl::Now() + absl::Seconds(2)); }

int Server::grpc_port() const { return parts_->grpc->port(); }
int Server::http_port() const { return parts_->http->port(); }
bool Server::IsLeader() const { return parts_->Leading(); }
bool Server::IsReady() const {
  return !parts_->shut_down.load() && parts_->controller->HasSynced() && parts_->Leading();
}

void Server::Shutdown(absl::Time deadline) {
  if (parts_->shut_down.exchange(true)) return;
  parts_->board.Close();
  parts_->grpc->Shutdown(deadline);
  parts_->http->Stop();
  if (parts_->elector != nullptr) parts_->elector->Stop();
  parts_->controller->Stop();
  LogEvent(LogLevel::kInfo, "scheduler.stopped", {});
}

}  // namespace labkube::scheduler
