#include "lib/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "lib/status_macros.h"
#include "lib/tls.h"

namespace labkube {
namespace {

std::string HostOf(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    size_t end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

absl::Status ValidateOptions(const GrpcServerOptions& options) {
  bool has_tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (options.plaintext) {
    if (has_tls || !options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("grpc server: plaintext and TLS files are exclusive");
    }
    if (!IsLoopbackAddress(options.address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "grpc server: plaintext is only allowed on loopback addresses, not ", options.address));
    }
  } else if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "grpc server: TLS needs a certificate and a key file (or plaintext on loopback)");
  }
  if (options.max_threads < 2) {
    return absl::InvalidArgumentError("grpc server: max_threads must be at least 2");
  }
  if (options.max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError("grpc server: max_receive_message_bytes must be positive");
  }
  return absl::OkStatus();
}

// Lets a call through only when the verified client certificate has an allowed common name.
class AllowedClients final : public grpc::AuthMetadataProcessor {
 public:
  explicit AllowedClients(std::set<std::string> allowed) : allowed_(std::move(allowed)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata&, grpc::AuthContext* context, OutputMetadata*,
                       OutputMetadata*) override {
    std::string who;
    for (const grpc::string_ref& cn : context->FindPropertyValues("x509_common_name")) {
      who.assign(cn.data(), cn.size());
      if (allowed_.count(who) > 0) return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(who.empty() ? "this caller" : who, " may not call this server; only ",
                                     absl::StrJoin(allowed_, ", "), " may"));
  }

 private:
  const std::set<std::string> allowed_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const GrpcServerOptions& options) {
  if (options.plaintext) return grpc::InsecureServerCredentials();
  LK_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                      ServerCredentialsFromFiles(options.tls_cert_file, options.tls_key_file,
                                                 options.tls_client_ca_file));
  if (!options.tls_client_ca_file.empty() && !options.allowed_clients.empty()) {
    credentials->SetAuthMetadataProcessor(std::make_shared<AllowedClients>(options.allowed_clients));
  }
  return credentials;
}

// Reflection and the default health service are process-wide switches of grpc++.
void InitGrpcPlugins() {
  static std::once_flag once;
  std::call_once(once, [] {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::EnableDefaultHealthCheckService(true);
    // grpc++'s built-in health service carries no descriptor; linking the generated one lets
    // reflection describe grpc.health.v1.Health (grpcurl ... grpc.health.v1.Health/Check).
    (void)grpc::health::v1::HealthCheckRequest::descriptor();
  });
}

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  return IsLoopbackHost(HostOf(address));
}

bool IsLoopbackHost(const std::string& host) {
  std::string_view h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Create(
    const GrpcServerOptions& options, const std::vector<grpc::Service*>& services,
    InterceptorFactories interceptors) {
  LK_RETURN_IF_ERROR(ValidateOptions(options));
  LK_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(options));
  InitGrpcPlugins();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, credentials, &port);
  grpc::ResourceQuota quota("labkube-grpc-server");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // Without this a second server could silently share a port that is already in use.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (!interceptors.empty()) builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || (port == 0 && !absl::StartsWith(options.address, "unix"))) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat("grpc server: cannot listen on ", options.address));
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), port));
}

GrpcServer::GrpcServer(std::unique_ptr<grpc::Server> server, int port)
    : server_(std::move(server)), port_(port) {}

GrpcServer::~GrpcServer() {
  Shutdown(absl::Now());
  Wait();
}

void GrpcServer::SetServing(const std::string& service_name, bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(service_name, serving);
}

void GrpcServer::Shutdown(absl::Time deadline) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health != nullptr) health->Shutdown();
  absl::Time now = absl::Now();
  if (deadline < now) deadline = now;
  if (deadline == absl::InfiniteFuture()) {
    server_->Shutdown();  // waits for every call
  } else {
    server_->Shutdown(absl::ToChronoTime(deadline));
  }
}

void GrpcServer::Wait() { server_->Wait(); }

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  return server_->InProcessChannel(grpc::ChannelArguments());
}

}  // namespace labkube
