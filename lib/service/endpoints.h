// Endpoints: the listening side of a labkube service in one object, started together and
// stopped in the order a rolling update needs:
//   - the gRPC server (lib/grpc_server.h: TLS, health, reflection) with the call interceptor
//     (call_interceptor.h: every call counted, timed and logged the same way), when the service
//     has gRPC services;
//   - the HTTP(S) endpoint (lib/http_server.h): GET /metrics, /healthz, /readyz (ready = the
//     service's `ready` and not shutting down) and the service's own routes (the webhook).
//
//   EndpointsSpec spec{.grpc = service::GrpcOptionsOf(o), .services = {&my_service},
//                      .api_service = "labkube.x.v1alpha1.X", .metric_prefix = "labkube_x",
//                      .http = service::HttpOptionsOf(o), .ready = [&] { return synced; }};
//   LK_ASSIGN_OR_RETURN(std::unique_ptr<Endpoints> endpoints, Endpoints::Start(std::move(spec)));
//   ... endpoints->Shutdown(absl::Now() + absl::Seconds(5));
//
// Ownership: the services are borrowed and must outlive the Endpoints; so must whatever `ready`
// and `routes` capture. The destructor shuts down at once.
// Thread safety: every method may be called from any thread.
#ifndef LABKUBE_LIB_SERVICE_ENDPOINTS_H_
#define LABKUBE_LIB_SERVICE_ENDPOINTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/grpc_server.h"
#include "lib/http_server.h"
#include "lib/metrics.h"
#include "lib/service/call_interceptor.h"

namespace labkube::service {

struct EndpointsSpec {
  // The gRPC port (service::GrpcOptionsOf); nullopt = none (the injector).
  std::optional<GrpcServerOptions> grpc = std::nullopt;
  std::vector<grpc::Service*> services = {};
  // The API's fully qualified service: its health status is SERVING once started, and its
  // methods are labelled by name alone in metrics and logs.
  std::string api_service = "";
  // Call metrics are <metric_prefix>_calls_total and <metric_prefix>_call_seconds.
  std::string metric_prefix = "";
  CallLogLevels call_log = {};
  HttpServerOptions http = {};  // service::HttpOptionsOf, plus the service's own settings
  std::function<bool()> ready = nullptr;              // null = ready whenever serving
  std::function<void(HttpServer&)> routes = nullptr;  // the service's own routes, added before Start
  metrics::Registry* registry = &metrics::DefaultRegistry();
};

class Endpoints {
 public:
  // Starts the gRPC server, then the HTTP endpoint. Errors as GrpcServer::Create and
  // HttpServer::Create/Start (a port that cannot be bound is kUnavailable).
  static absl::StatusOr<std::unique_ptr<Endpoints>> Start(EndpointsSpec spec);

  ~Endpoints();  // Shutdown(now)
  Endpoints(const Endpoints&) = delete;
  Endpoints& operator=(const Endpoints&) = delete;

  int grpc_port() const { return grpc_ == nullptr ? 0 : grpc_->port(); }
  int http_port() const { return http_->port(); }
  GrpcServer* grpc() { return grpc_.get(); }  // null without gRPC
  HttpServer& http() { return *http_; }

  // For a rolling update, before Shutdown: /readyz answers 503 and HTTP answers carry
  // `Connection: close` (HttpServer::Drain); requests and calls are still served.
  void Drain();
  // /readyz 503, gRPC health NOT_SERVING, no new calls; running calls get until `deadline`;
  // then the HTTP endpoint stops. Idempotent.
  void Shutdown(absl::Time deadline);
  bool shutting_down() const { return shut_down_.load(); }

 private:
  Endpoints() = default;

  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<HttpServer> http_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_ENDPOINTS_H_
