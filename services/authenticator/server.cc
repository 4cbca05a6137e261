#include "services/authenticator/server.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/grpc_server.h"
#include "lib/log.h"
#include "lib/service/endpoints.h"
#include "lib/service/kube_client.h"
#include "lib/status_macros.h"
#include "services/authenticator/authenticator.h"
#include "services/authenticator/authenticator_service.h"
#include "services/authenticator/client_address.h"

namespace labkube::authenticator {

constexpr char kServiceName[] = "labkube.auth.v1alpha1.Authenticator";

// Declaration order is construction order; destruction runs in reverse (servers first).
struct Server::Parts {
  Options options;
  Clock* clock = nullptr;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<TokenVerifier> verifier;
  std::unique_ptr<SecretMap> member_map;
  std::unique_ptr<SecretMap> session_map;
  std::unique_ptr<MemberStore> members;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<PasswordHasher> hasher;
  std::unique_ptr<Lockout> lockout;
  std::unique_ptr<TokenIssuer> issuer;
  std::unique_ptr<MemberProvisioner> provisioner;
  std::unique_ptr<CallerIdentity> identity;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<AuthenticatorService> service;
  std::unique_ptr<service::Endpoints> endpoints;
  std::atomic<bool> shut_down{false};

  bool Ready() const {
    return !shut_down.load() && member_map->HasSynced() && session_map->HasSynced();
  }
};

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status CheckOptions(const Options& o) {
  LK_RETURN_IF_ERROR(service::CheckServiceOptions(o));
  if (o.public_server.empty()) {
    return absl::InvalidArgumentError(
        "public_server: the API server URL for kubeconfigs is required");
  }
  if (o.max_sessions_per_member < 1) {
    return absl::InvalidArgumentError("max_sessions_per_member must be at least 1");
  }
  if (o.lockout_max_failures < 1 || o.lockout_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lockout_max_failures and lockout_window must be positive");
  }
  if (o.session_max_age <= absl::ZeroDuration() || o.token_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("session_max_age and token_ttl must be positive");
  }
  return absl::OkStatus();
}

void BuildStores(Server::Parts& p) {
  const Options& o = p.options;
  p.member_map =
      std::make_unique<SecretMap>(*p.client, *p.clock, o.system_namespace, o.members_secret);
  p.session_map =
      std::make_unique<SecretMap>(*p.client, *p.clock, o.system_namespace, o.sessions_secret);
  p.members = std::make_unique<MemberStore>(*p.member_map);
  p.sessions = std::make_unique<SessionStore>(
      *p.session_map, *p.clock, SessionOptions{o.session_max_age, o.max_sessions_per_member});
  p.lockout = std::make_unique<Lockout>(
      *p.clock, LockoutOptions{.max_failures = o.lockout_max_failures, .window = o.lockout_window});
  p.issuer = std::make_unique<TokenIssuer>(
      *p.client, TokenAudiences{o.token_audiences, {contract::kGatewayAudience}});
  p.provisioner = std::make_unique<MemberProvisioner>(
      *p.client, ProvisionerOptions{o.namespace_prefix, o.member_role, o.machine_viewer_role});
  if (p.verifier == nullptr) {
    p.verifier = std::make_unique<TokenReviewVerifier>(
        *p.client, std::vector<std::string>{contract::kGatewayAudience});
  }
  p.identity = std::make_unique<CallerIdentity>(*p.verifier, *p.client, o.namespace_prefix);
}

// `--trusted_proxies`; kInvalidArgument naming the flag and the bad entry.
absl::StatusOr<TrustedProxies> ParseTrustedProxies(const std::string& spec) {
  absl::StatusOr<TrustedProxies> trusted = TrustedProxies::Parse(spec);
  if (!trusted.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trusted_proxies: ", trusted.status().message()));
  }
  return trusted;
}

void LogStarted(const Server::Parts& p, const TrustedProxies& trusted) {
  LogEvent(LogLevel::kInfo, "authenticator.started",
           {{"grpc_port", p.endpoints->grpc_port()},
            {"http_port", p.endpoints->http_port()},
            {"tls", !p.options.plaintext},
            {"public_server", p.options.public_server},
            {"trusted_proxies", trusted.ToString()},
            {"hash", p.options.hash_algorithm}});
}

// The gRPC port (only allowed_clients with a client CA) and the HTTPS endpoint (ready = both
// Secrets' caches synced). Logins and admin actions write their own audit lines, so successful
// calls' request lines are at debug and refusals at info.
absl::Status StartEndpoints(Server::Parts& p) {
  GrpcServerOptions go = service::GrpcOptionsOf(p.options);
  if (!go.tls_client_ca_file.empty()) {
    go.allowed_clients = {p.options.allowed_clients.begin(), p.options.allowed_clients.end()};
  }
  Server::Parts* raw = &p;
  LK_ASSIGN_OR_RETURN(
      p.endpoints,
      service::Endpoints::Start({.grpc = go,
                                 .services = {p.service.get()},
                                 .api_service = kServiceName,
                                 .metric_prefix = "labkube_authenticator",
                                 .call_log = {.write_ok = LogLevel::kDebug, .failed = LogLevel::kInfo},
                                 .http = service::HttpOptionsOf(p.options),
                                 .ready = [raw] { return raw->Ready(); }}));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  LK_ASSIGN_OR_RETURN(kube::ClusterConfig config, service::LoadClusterConfig(options.kubeconfig));
  Options o = options;
  if (o.public_server.empty()) o.public_server = config.server;
  if (o.public_ca_pem.empty() && o.public_ca_file.empty()) o.public_ca_pem = config.ca_pem;
  LK_ASSIGN_OR_RETURN(auto client, service::NewKubeClient(config));
  return Create(o, std::move(client), Clock::Real());
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options,
                                                       std::unique_ptr<kube::Client> client,
                                                       Clock& clock,
                                                       std::unique_ptr<TokenVerifier> verifier) {
  LK_RETURN_IF_ERROR(CheckOptions(options));
  LK_RETURN_IF_ERROR(SetLogLevel(options.log_level));
  LK_ASSIGN_OR_RETURN(TrustedProxies trusted, ParseTrustedProxies(options.trusted_proxies));
  auto p = std::make_unique<Parts>();
  p->options = options;
  if (p->options.public_ca_pem.empty() && !options.public_ca_file.empty()) {
    LK_ASSIGN_OR_RETURN(p->options.public_ca_pem, ReadFile(options.public_ca_file));
  }
  p->clock = &clock;
  p->client = std::move(client);
  p->verifier = std::move(verifier);
  LK_ASSIGN_OR_RETURN(p->hasher, PasswordHasher::Create({options.hash_algorithm, options.hash_cost,
                                                         options.hash_concurrency}));
  BuildStores(*p);
  AuthenticatorOptions ao{options.namespace_prefix, options.cluster_name, p->options.public_server,
                          p->options.public_ca_pem, options.token_ttl,    options.max_issued_ttl};
  p->auth =
      std::make_unique<Authenticator>(Deps{*p->client, clock, *p->members, *p->sessions, *p->hasher,
                                           *p->lockout, *p->issuer, *p->provisioner, *p->identity},
                                      ao);
  p->service = std::make_unique<AuthenticatorService>(*p->auth, trusted);
  p->member_map->Start();
  p->session_map->Start();
  LK_RETURN_IF_ERROR(StartEndpoints(*p));
  LogStarted(*p, trusted);
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(absl::Now() + absl::Seconds(2)); }

int Server::grpc_port() const { return parts_->endpoints->grpc_port(); }
int Server::http_port() const { return parts_->endpoints->http_port(); }
bool Server::IsReady() const { return parts_->Ready(); }

void Server::Shutdown(absl::Time deadline) {
  if (parts_->shut_down.exchange(true)) return;
  parts_->endpoints->Shutdown(deadline);
  parts_->member_map->Stop();
  parts_->session_map->Stop();
  LogEvent(LogLevel::kInfo, "authenticator.stopped", {});
}

}  // namespace labkube::authenticator
