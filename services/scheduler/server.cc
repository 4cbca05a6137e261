#include "services/scheduler/server.h"

#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "lib/kube/leader_election.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/service/endpoints.h"
#include "lib/service/kube_client.h"
#include "lib/status_macros.h"
#include "services/scheduler/availability.h"
#include "services/scheduler/cert_manager.h"
#include "services/scheduler/claim_handler.h"
#include "services/scheduler/claim_key.h"
#include "services/scheduler/claim_signer.h"
#include "services/scheduler/controller.h"
#include "services/scheduler/leader_mark.h"
#include "services/scheduler/scheduler_service.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {

constexpr char kServiceName[] = "labkube.scheduler.v1alpha1.Scheduler";

// Declaration order is construction order; destruction runs in reverse (servers first).
struct Server::Parts {
  Options options;
  Clock* clock = nullptr;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<CertManager> certs;
  std::thread cert_loop;
  absl::Notification stop_loops;
  std::unique_ptr<LeaderPodMarker> marker;
  std::thread mark_loop;
  std::unique_ptr<ClaimSigner> signer;
  std::unique_ptr<SchedulerState> state;
  AvailabilityBoard board;
  std::unique_ptr<ClaimHandler> claims;
  std::unique_ptr<kube::LeaderElector> elector;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<SchedulerService> service;
  std::unique_ptr<service::Endpoints> endpoints;
  std::atomic<bool> shut_down{false};

  bool Leading() const { return elector == nullptr || elector->IsLeader(); }
  bool Ready() const {
    return !shut_down.load() && controller->HasSynced() && (marker != nullptr || Leading());
  }
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

std::string DefaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

absl::Status StartEndpoints(Server::Parts& p);

// Makes the certificates (retrying while another replica races or the API server starts) and
// writes the scheduler's own into the certificate directory, which it then serves from.
absl::Status BootstrapCertificates(Server::Parts& p) {
  Options& o = p.options;
  if (o.certificate_dir.empty()) {
    return absl::InvalidArgumentError("--manage_certificates needs --certificate_dir");
  }
  CertManagerOptions co;
  co.ns = o.certificate_namespace;
  co.services = DefaultServiceCertificates(o.certificate_namespace, o.gateway_names);
  co.webhook_configuration = o.webhook_configuration;
  p.certs = std::make_unique<CertManager>(*p.client, *p.clock, co);
  absl::Status s;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60); absl::Now() < deadline;) {
    absl::StatusOr<std::vector<std::string>> wrote = p.certs->Reconcile();
    s = wrote.ok() ? p.certs->WriteFiles(kSchedulerCertificateSecret, o.certificate_dir)
                   : wrote.status();
    if (s.ok() || absl::IsPermissionDenied(s) || absl::IsInvalidArgument(s)) break;
    absl::SleepFor(absl::Milliseconds(500));  // a race with another replica, or a slow start
  }
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("making labkube's certificates in ",
                                                o.certificate_namespace, ": ", s.message()));
  }
  if (o.plaintext) return absl::OkStatus();  // made for the others; this one serves plaintext
  if (o.tls_cert.empty()) o.tls_cert = o.certificate_dir + "/tls.crt";
  if (o.tls_key.empty()) o.tls_key = o.certificate_dir + "/tls.key";
  if (o.tls_client_ca.empty()) o.tls_client_ca = o.certificate_dir + "/ca.crt";
  return absl::OkStatus();
}

// Keeps the leader label on this pod equal to leadership (on a change at once, else every 10 s
// in case someone removed it), and takes it off when the server stops.
void LeaderMarkLoop(Server::Parts* p) {
  std::optional<bool> marked;
  absl::Time last = absl::InfinitePast();
  while (!p->stop_loops.WaitForNotificationWithTimeout(absl::Milliseconds(200))) {
    bool leading = p->Leading() && p->controller->HasSynced();
    if (marked == leading && absl::Now() - last < absl::Seconds(10)) continue;
    absl::Status s = p->marker->Sync(leading);
    last = absl::Now();
    if (s.ok()) {
      if (marked != leading) LogEvent(LogLevel::kInfo, "scheduler.leader_mark", {{"leader", leading}});
      marked = leading;
    } else {
      LogEvent(LogLevel::kWarn, "scheduler.leader_mark_error", {{"error", std::string(s.message())}});
    }
  }
  if (marked.value_or(true)) (void)p->marker->Sync(false);
}

// The leader repairs and renews every certificate; every replica refreshes its own files.
void CertificateLoop(Server::Parts* p) {
  while (!p->stop_loops.WaitForNotificationWithTimeout(p->options.certificate_check)) {
    absl::Status s = absl::OkStatus();
    if (p->Leading()) s = p->certs->Reconcile().status();
    if (s.ok()) s = p->certs->WriteFiles(kSchedulerCertificateSecret, p->options.certificate_dir);
    if (!s.ok()) LogEvent(LogLevel::kWarn, "certificates.error", {{"error", std::string(s.message())}});
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  LK_ASSIGN_OR_RETURN(auto client, service::NewKubeClient(options.kubeconfig));
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
  if (options.manage_certificates) LK_RETURN_IF_ERROR(BootstrapCertificates(*p));
  const Options& o = p->options;  // with the certificate files when they are managed
  LK_RETURN_IF_ERROR(service::CheckServiceOptions(o));
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
  co.reconciler.identity = options.identity.empty() ? DefaultIdentity() : options.identity;
  p->controller = std::make_unique<Controller>(*p->client, *p->state, p->board, clock,
                                               [raw] { return raw->Leading(); },
                                               metrics::DefaultRegistry(), co);
  bool mutual = !o.tls_client_ca.empty() && !o.plaintext;
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
  LK_RETURN_IF_ERROR(StartEndpoints(*p));
  p->controller->Start();
  if (p->elector != nullptr) p->elector->Start();
  if (p->certs != nullptr) p->cert_loop = std::thread(CertificateLoop, p.get());
  if (options.mark_leader_pod) {
    p->marker = std::make_unique<LeaderPodMarker>(*p->client, options.lease_namespace,
                                                  options.identity);
    p->mark_loop = std::thread(LeaderMarkLoop, p.get());
  }
  LogEvent(LogLevel::kInfo, "scheduler.started",
           {{"grpc_port", p->endpoints->grpc_port()}, {"http_port", p->endpoints->http_port()},
            {"leader_election", options.leader_elect}, {"tls", !options.plaintext},
            {"mutual_tls", mutual}, {"manages_certificates", p->certs != nullptr}});
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

namespace {

// The gRPC port and the HTTPS endpoint (ready = Parts::Ready). Claims are logged by the
// service itself (one "claim" line each), so successful calls' lines are at debug.
absl::Status StartEndpoints(Server::Parts& p) {
  Server::Parts* raw = &p;
  LK_ASSIGN_OR_RETURN(
      p.endpoints,
      service::Endpoints::Start({.grpc = service::GrpcOptionsOf(p.options),
                                 .services = {p.service.get()},
                                 .api_service = kServiceName,
                                 .metric_prefix = "labkube_scheduler",
                                 .call_log = {.write_ok = LogLevel::kDebug, .failed = LogLevel::kInfo},
                                 .http = service::HttpOptionsOf(p.options),
                                 .ready = [raw] { return raw->Ready(); }}));
  return absl::OkStatus();
}

}  // namespace

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(absl::Now() + absl::Seconds(2)); }

int Server::grpc_port() const { return parts_->endpoints->grpc_port(); }
int Server::http_port() const { return parts_->endpoints->http_port(); }
bool Server::IsLeader() const { return parts_->Leading(); }
bool Server::IsReady() const { return parts_->Ready(); }

void Server::Shutdown(absl::Time deadline) {
  if (parts_->shut_down.exchange(true)) return;
  // The lease first: a successor takes over at its next retry (2 s) rather than after the
  // lease expires (15 s), even if this process is killed while its streams drain below.
  if (parts_->elector != nullptr) parts_->elector->Stop();
  parts_->board.Close();
  parts_->stop_loops.Notify();  // ends the certificate and leader-mark loops (unlabels the pod)
  if (parts_->mark_loop.joinable()) parts_->mark_loop.join();
  parts_->endpoints->Shutdown(deadline);
  parts_->controller->Stop();
  if (parts_->cert_loop.joinable()) parts_->cert_loop.join();
  LogEvent(LogLevel::kInfo, "scheduler.stopped", {});
}

}  // namespace labkube::scheduler
