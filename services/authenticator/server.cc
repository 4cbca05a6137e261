#include "services/authenticator/server.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/grpc_server.h"
#include "lib/http_server.h"
#include "lib/kube/config.h"
#include "lib/kube/rest_client.h"
#include "lib/log.h"
#include "lib/metrics.h"
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
  std::unique_ptr<GrpcServer> grpc;
  std::unique_ptr<HttpServer> http;
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
           {{"grpc_port", p.grpc->port()},
            {"http_port", p.http->port()},
            {"tls", !p.options.plaintext},
            {"public_server", p.options.public_server},
            {"trusted_proxies", trusted.ToString()},
            {"hash", p.options.hash_algorithm}});
}

absl::Status StartServers(Server::Parts& p) {
  const Options& o = p.options;
  GrpcServerOptions go;
  go.address = o.grpc_address;
  go.tls_cert_file = o.tls_cert;
  go.tls_key_file = o.tls_key;
  go.plaintext = o.plaintext;
  go.tls_client_ca_file = o.plaintext ? "" : o.tls_client_ca;
  go.allowed_clients = {o.allowed_clients.begin(), o.allowed_clients.end()};
  go.max_threads = o.max_threads;
  go.max_receive_message_bytes = o.max_message_bytes;
  LK_ASSIGN_OR_RETURN(p.grpc, GrpcServer::Create(go, {p.service.get()}));
  HttpServerOptions ho;
  ho.address = o.http_address;
  ho.port = o.http_port;
  ho.tls_cert_file = o.tls_cert;
  ho.tls_key_file = o.tls_key;
  ho.allow_plaintext = o.plaintext;
  LK_ASSIGN_OR_RETURN(p.http, HttpServer::Create(ho));
  Server::Parts* raw = &p;
  AddMetricsAndHealth(*p.http, metrics::DefaultRegistry(), [raw] { return raw->Ready(); });
  return p.http->Start();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options) {
  absl::StatusOr<kube::ClusterConfig> config =
      options.kubeconfig.empty() ? kube::LoadDefault() : kube::LoadKubeconfig(options.kubeconfig);
  if (!config.ok()) return config.status();
  Options o = options;
  if (o.public_server.empty()) o.public_server = config->server;
  if (o.public_ca_pem.empty() && o.public_ca_file.empty()) o.public_ca_pem = config->ca_pem;
  LK_ASSIGN_OR_RETURN(auto client, kube::RestClient::Create(*config));
  return Create(o, std::move(client), Clock::Real());
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const Options& options,
                                                       std::unique_ptr<kube::Client> client,
                                                       Clock& clock,
                                                       std::unique_ptr<TokenVerifier> verifier) {
  LK_RETURN_IF_ERROR(SetLogLevel(options.log_level));
  LK_RETURN_IF_ERROR(CheckOptions(options));
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
  p->service =
      std::make_unique<AuthenticatorService>(*p->auth, metrics::DefaultRegistry(), trusted);
  p->member_map->Start();
  p->session_map->Start();
  LK_RETURN_IF_ERROR(StartServers(*p));
  p->grpc->SetServing(kServiceName, true);
  LogStarted(*p, trusted);
  return std::unique_ptr<Server>(new Server(std::move(p)));
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Server::~Server() { Shutdown(absl::Now() + absl::Seconds(2)); }

int Server::grpc_port() const { return parts_->grpc->port(); }
int Server::http_port() const { return parts_->http->port(); }
bool Server::IsReady() const { return parts_->Ready(); }

void Server::Shutdown(absl::Time deadline) {
  if (parts_->shut_down.exchange(true)) return;
  parts_->grpc->Shutdown(deadline);
  parts_->http->Stop();
  parts_->member_map->Stop();
  parts_->session_map->Stop();
  LogEvent(LogLevel::kInfo, "authenticator.stopped", {});
}

}  // namespace labkube::authenticator
