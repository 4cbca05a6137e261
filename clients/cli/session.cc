#include "clients/cli/session.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/exit_codes.h"
#include "lib/grpc_status.h"
#include "lib/tls.h"

namespace labkube::cli {
namespace {

constexpr absl::Duration kRefreshMargin = absl::Minutes(1);

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return t.seconds() == 0 ? absl::InfinitePast() : absl::FromUnixSeconds(t.seconds());
}

}  // namespace

bool IsLoopbackTarget(const std::string& server) {
  return absl::StartsWith(server, "127.") || absl::StartsWith(server, "localhost:") ||
         absl::StartsWith(server, "[::1]:");
}

Endpoint ResolveEndpoint(const Endpoint& flags, const Config& config) {
  Endpoint e;
  e.server = !flags.server.empty() ? flags.server : config.server;
  e.ca_file = !flags.ca_file.empty() ? flags.ca_file : flags.server.empty() ? config.ca_file : "";
  e.plaintext = flags.plaintext || (flags.server.empty() && config.plaintext);
  return e;
}

GatewayClient::GatewayClient(Endpoint endpoint, std::shared_ptr<grpc::Channel> channel)
    : endpoint_(std::move(endpoint)), stub_(gw::Gateway::NewStub(std::move(channel))) {}

absl::StatusOr<std::unique_ptr<GatewayClient>> GatewayClient::Connect(const Endpoint& e) {
  if (e.server.empty()) {
    return UsageError("no gateway address: run `labctl login --server HOST:PORT` first");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (e.plaintext) {
    if (!IsLoopbackTarget(e.server)) {
      return UsageError("--insecure-plaintext is only allowed for loopback addresses");
    }
    creds = grpc::InsecureChannelCredentials();
  } else {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
        ChannelCredentialsFromFiles(e.ca_file);
    if (!tls.ok()) return LocalError(absl::StrCat("--ca-file: ", tls.status().message()));
    creds = *tls;
  }
  return std::unique_ptr<GatewayClient>(new GatewayClient(e, grpc::CreateChannel(e.server, creds)));
}

std::unique_ptr<grpc::ClientContext> GatewayClient::NewContext(const std::string& authorization,
                                                               absl::Duration timeout) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  return ctx;
}

absl::Status GatewayClient::Check(const grpc::Status& s) const {
  if (s.ok()) return absl::OkStatus();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (absl::StrContains(s.error_message(), "connect") ||
       absl::StrContains(s.error_message(), "DNS") ||
       absl::StrContains(s.error_message(), "handshake") ||
       absl::StrContains(s.error_message(), "Connection"))) {
    return absl::UnavailableError(absl::StrCat("cannot reach the gateway at ", endpoint_.server,
                                               " (", s.error_message(), ")"));
  }
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::DeadlineExceededError(
        absl::StrCat("the gateway at ", endpoint_.server, " did not answer in time"));
  }
  return FromGrpcStatus(s);
}

Session::Session(ConfigStore store, Io& io, Endpoint flags)
    : store_(std::move(store)), io_(io), flags_(std::move(flags)) {}

absl::Status Session::Open() {
  absl::StatusOr<Config> config = store_.LoadConfig();
  if (config.ok()) {
    config_ = *config;
  } else if (!absl::IsNotFound(config.status())) {
    return config.status();
  }
  absl::StatusOr<Credentials> creds = store_.LoadCredentials();
  if (absl::IsNotFound(creds.status()) || (creds.ok() && creds->access_token.empty())) {
    return absl::UnauthenticatedError("not logged in: run `labctl login --server HOST:PORT`");
  }
  if (!creds.ok()) return creds.status();
  credentials_ = *creds;
  LK_ASSIGN_OR_RETURN(client_, GatewayClient::Connect(ResolveEndpoint(flags_, config_)));
  return absl::OkStatus();
}

bool Session::CanRefresh() const {
  return !credentials_.refresh_token.empty() && credentials_.refresh_expiry > absl::Now();
}

absl::StatusOr<std::string> Session::Authorization(bool force) {
  const bool stale = credentials_.access_expiry != absl::InfinitePast() &&
                     credentials_.access_expiry - kRefreshMargin < absl::Now();
  if ((force || stale) && CanRefresh()) {
    LK_RETURN_IF_ERROR(Refresh(false, gw::KUBECONFIG_FORM_TOKEN).status());
  } else if (stale && credentials_.access_expiry < absl::Now()) {
    return absl::UnauthenticatedError("session expired: run `labctl login`");
  }
  return absl::StrCat("Bearer ", credentials_.access_token);
}

absl::StatusOr<gw::RefreshResponse> Session::Refresh(bool want_kubeconfig,
                                                     gw::KubeconfigForm form) {
  if (credentials_.refresh_token.empty() || credentials_.refresh_expiry < absl::Now()) {
    return absl::UnauthenticatedError("session expired: run `labctl login`");
  }
  gw::RefreshRequest req;
  req.set_refresh_token(credentials_.refresh_token);
  req.set_want_kubeconfig(want_kubeconfig);
  req.set_form(form);
  gw::RefreshResponse resp;
  grpc::Status s =
      client_->stub().Refresh(client_->NewContext("", absl::Seconds(30)).get(), req, &resp);
  if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return absl::UnauthenticatedError(
        absl::StrCat("session expired (", s.error_message(), "): run `labctl login`"));
  }
  LK_RETURN_IF_ERROR(client_->Check(s));
  credentials_.access_token = resp.access_token();
  credentials_.access_expiry = FromProto(resp.access_token_expiry());
  if (resp.has_refresh_token_expiry()) {
    credentials_.refresh_expiry = FromProto(resp.refresh_token_expiry());
  }
  LK_RETURN_IF_ERROR(store_.SaveCredentials(credentials_));
  return resp;
}

}  // namespace labkube::cli
