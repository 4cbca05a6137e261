// GrpcServer: how every labkube service serves gRPC. One call builds and starts a server with
// the project's defaults: TLS from reloading PEM files (tls.h) unless plaintext is explicitly
// requested for a loopback address, a bounded thread pool, a message size limit, server
// reflection (grpcurl can list and call services) and the standard grpc.health.v1 health
// service (proto/grpc/health/v1/health.proto for clients), whose statuses SetServing() sets.
//
//   GrpcServerOptions options{.address = "0.0.0.0:8443", .tls_cert_file = ..., .tls_key_file =
//   ...}; LK_ASSIGN_OR_RETURN(auto server, GrpcServer::Create(options, {&my_service}));
//   server->SetServing("labkube.scheduler.v1alpha1.Scheduler", true);
//   ... server->Shutdown(absl::Now() + absl::Seconds(5)); server->Wait();
//
// Ownership: the services are borrowed and must outlive the server. The destructor shuts the
// server down at once (cancelling calls still running) and waits for it.
// Thread safety: all methods are safe to call from many threads at once.
#ifndef LABKUBE_LIB_GRPC_SERVER_H_
#define LABKUBE_LIB_GRPC_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube {

struct GrpcServerOptions {
  // host:port ("0.0.0.0:0", "[::]:8443", "127.0.0.1:0"); port 0 picks a free port (port()).
  std::string address = "0.0.0.0:0";
  // PEM files (watched for changes); a client CA requires client certificates (mutual TLS).
  std::string tls_cert_file = "";
  std::string tls_key_file = "";
  std::string tls_client_ca_file = "";
  // With a client CA: only callers whose certificate has one of these common names may call
  // anything on this server (empty = any certificate of the CA). Checked on every call.
  std::set<std::string> allowed_clients = {};
  // Serve without TLS. Only allowed on loopback addresses (127.x, ::1, localhost, unix:).
  bool plaintext = false;
  // Upper bound on the threads the server uses (grpc::ResourceQuota::SetMaxThreads); >= 2.
  int max_threads = 16;
  int max_receive_message_bytes = 4 * 1024 * 1024;
};

class GrpcServer {
 public:
  using InterceptorFactories =
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>;

  // Validates `options`, builds and starts the server. kInvalidArgument for bad options (TLS
  // files are checked and named in the error), kUnavailable when the address cannot be bound.
  // `interceptors` see every call, in order (lib/service/call_interceptor.h counts and logs).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Create(
      const GrpcServerOptions& options, const std::vector<grpc::Service*>& services,
      InterceptorFactories interceptors = {});

  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // The bound TCP port.
  int port() const { return port_; }

  // Health status of `service_name` (a fully qualified service such as
  // "labkube.scheduler.v1alpha1.Scheduler"; "" is the whole server, SERVING after Create).
  void SetServing(const std::string& service_name, bool serving);

  // Marks every service NOT_SERVING, stops accepting calls and waits for running calls until
  // `deadline`, then cancels the rest. Idempotent.
  void Shutdown(absl::Time deadline);
  // Blocks until the server has shut down.
  void Wait();

  // A channel to this server that skips the network (for tests and in-process clients).
  std::shared_ptr<grpc::Channel> InProcessChannel();

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port);

  std::unique_ptr<grpc::Server> server_;
  const int port_;
};

// True when `address` (as GrpcServerOptions.address) only listens on the local machine.
bool IsLoopbackAddress(const std::string& address);
// True when `host` (no port: "127.0.0.1", "::1", "[::1]", "localhost") is a loopback host.
bool IsLoopbackHost(const std::string& host);

}  // namespace labkube

#endif  // LABKUBE_LIB_GRPC_SERVER_H_
