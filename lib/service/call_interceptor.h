// The gRPC server interceptor every labkube service installs (through Endpoints), so each call
// is counted, timed and logged the same way whatever the service:
//   <prefix>_calls_total{method,code}   counter, code as in absl ("OK", "NOT_FOUND", ...)
//   <prefix>_call_seconds{method}       histogram, 0.5 ms .. 16 s (streams: until they end)
//   one JSON line per call: {"event":"request","method":...,"peer":...,"code":...,"error":...,
//                            "latency_ms":...} plus the fields the handler added.
// Methods of the service's own API (`api_service`) are labelled by their name alone ("Login");
// others (health, reflection) by their full name ("grpc.health.v1.Health/Check").
// The log level of the line follows CallLogLevels: successful reads (List*, Get*, Describe*,
// Watch*, WhoAmI, Check) at debug, other successes at info, bad input (INVALID_ARGUMENT,
// NOT_FOUND) at info, everything else at warn, each overridable per service (one that logs
// its own domain lines, as the scheduler's claims, puts its successes at debug).
//
// A handler adds fields to its call's line with AddCallLogField(context, "member", name).
//
// Ownership: the factory is handed to the gRPC server (GrpcServer::Create), which owns it; the
// metric families belong to the registry, which must outlive the server.
// Thread safety: a call's interceptor runs on gRPC's threads, one hook at a time; AddCallLogField
// is safe from any thread while its call runs.
#ifndef LABKUBE_LIB_SERVICE_CALL_INTERCEPTOR_H_
#define LABKUBE_LIB_SERVICE_CALL_INTERCEPTOR_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "lib/log.h"
#include "lib/metrics.h"

namespace labkube::service {

struct CallLogLevels {
  LogLevel read_ok = LogLevel::kDebug;  // OK of List*, Get*, Describe*, Watch*, WhoAmI, Check
  LogLevel write_ok = LogLevel::kInfo;  // OK of any other method
  LogLevel bad_input = LogLevel::kInfo;  // INVALID_ARGUMENT, NOT_FOUND
  LogLevel failed = LogLevel::kWarn;     // every other code
};

struct CallInterceptorOptions {
  // Metric names start with it: "labkube_gateway" -> labkube_gateway_calls_total.
  std::string metric_prefix;
  // The fully qualified service of the API ("labkube.gateway.v1alpha1.Gateway").
  std::string api_service;
  CallLogLevels levels;
  metrics::Registry* registry = &metrics::DefaultRegistry();
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewCallInterceptorFactory(
    const CallInterceptorOptions& options);

// Adds {key: value} to the log line of the call `context` belongs to (nothing when the call is
// not intercepted). Secrets are redacted by key as in LogEvent.
void AddCallLogField(const grpc::ServerContextBase* context, std::string_view key,
                     std::string value);

// "Login" for "/labkube.gateway.v1alpha1.Gateway/Login" when `api_service` is that service, else
// the full name without the leading slash.
std::string MethodLabel(std::string_view full_method, std::string_view api_service);

// The level of the line of a call of `method` (as MethodLabel) that ended with `code`.
LogLevel CallLogLevel(const CallLogLevels& levels, std::string_view method, grpc::StatusCode code);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_CALL_INTERCEPTOR_H_
