#include "services/injector/server.h"

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/http_server.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/service/endpoints.h"
#include "lib/status_macros.h"
#include "services/injector/grpc_claimer.h"
#include "services/injector/mutator.h"
#include "services/injector/webhook_handler.h"

namespace labkube::injector {

constexpr char kWebhookPath[] = "/mutate-pods";

// Declaration order is construction order; destruction runs in reverse (server first).
struct Server::Parts {
  Options options;
  std::unique_ptr<Claimer> claimer;
  std::unique_ptr<Mutator> mutator;
  std::unique_ptr<WebhookHandler> webhook;
  std::unique_ptr<service::Endpoints> endpoints;
  std::atomic<bool> shut_down{false};
};

namespace {

absl::Status CheckOptions(const Options& o) {
  LK_RETURN_IF_ERROR(service::CheckServiceOptions(o, {.grpc = false}));
  if (o.claim_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the claim timeout must be positive");
  }
  return absl::OkStatus();
}

// The HTTPS endpoint: the webhook beside /metrics, /healthz, /readyz; client certificates are
// asked for (the API server's) when a client CA is set.
absl::Status StartEndpoints(Server::Parts& p) {
  HttpServerOptions ho = service::HttpOptionsOf(p.options);
  if (!p.options.plaintext) ho.tls_client_ca_file = p.options.tls_client_ca;
  ho.threads = p.options.threads;
  // A backstop above the handler's own limit, so the handler can say why it refuses.
  ho.max_body_bytes = WebhookOptions().max_body_bytes + (1 << 20);
  WebhookHandler* webhook = p.webhook.get();
  LK_ASSIGN_OR_RETURN(
      p.endpoints,
      service::Endpoints::Start(
          {.http = ho, .routes = [webhook](HttpServer& http) { webhook->Register(http, kWebhookPath); }}));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  GrpcClaimerOptions co;
  co.address = options.scheduler_address;
  co.ca_file = options.scheduler_ca;
  co.cert_file = options.client_cert;
  co.key_file = options.client_key;
  co.plaintext = options.scheduler_plaintext;
  LK_ASSIGN_OR_RETURN(auto claimer, GrpcClaimer::Create(co));
  return Create(options, std::move(claimer));
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options,
                                                       std::unique_ptr<Claimer> claimer) {
  LK_RETURN_IF_ERROR(CheckOptions(options));
  LK_RETURN_IF_ERROR(SetLogLevel(options.log_level));
  auto p = std::make_unique<Parts>();
  p->options = options;
  p->claimer = std::move(claimer);
  p->mutator = std::make_unique<Mutator>(*p->claimer);
  WebhookOptions wo;
  wo.claim_timeout = options.claim_timeout;
  if (!options.tls_client_ca.empty() && !options.plaintext) {
    wo.allowed_clients = {options.allowed_clients.begin(), options.allowed_clients.end()};
  } else {
    LogEvent(LogLevel::kWarn, "injector.no_client_authentication",
             {{"why", "no --client_ca: any caller that reaches the port may send reviews"}});
  }
  p->webhook = std::make_unique<WebhookHandler>(*p->mutator, metrics::DefaultRegistry(), wo);
  LK_RETURN_IF_ERROR(StartEndpoints(*p));
  LogEvent(LogLevel::kInfo, "injector.started",
           {{"port", p->endpoints->http_port()},
            {"tls", !options.plaintext},
            {"scheduler", options.scheduler_address},
            {"claim_timeout_ms", absl::ToDoubleMilliseconds(options.claim_timeout)}});
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return parts_->endpoints->http_port(); }

bool Server::IsReady() const { return !parts_->shut_down.load(); }

void Server::DrainAndShutdown(absl::Duration delay) {
  parts_->endpoints->Drain();
  LogEvent(LogLevel::kInfo, "injector.draining", {{"delay_ms", absl::ToDoubleMilliseconds(delay)}});
  absl::SleepFor(delay);
  Shutdown();
}

void Server::Shutdown() {
  if (parts_->shut_down.exchange(true)) return;
  parts_->endpoints->Shutdown(absl::Now());
  LogEvent(LogLevel::kInfo, "injector.stopped", {});
}

}  // namespace labkube::injector
