// ServiceOptions: what every labkube service needs to serve, in one place: the Kubernetes
// client's kubeconfig, the gRPC address, the HTTP(S) endpoint (/metrics, /healthz, /readyz; the
// injector's webhook), TLS files, plaintext for local development, threads, the log level and
// the service's own client certificate toward the services it calls. A service's Options
// derives from it and adds what is its own (services/*/server.h), so the common fields and
// their checks are written once:
//
//   struct Options : service::ServiceOptions { std::string scheduler = ...; };
//   LK_RETURN_IF_ERROR(service::CheckServiceOptions(o, {.grpc = true}));
//   GrpcServerOptions go = service::GrpcOptionsOf(o);   // then the service's own tweaks
//
// Plain values: copyable, no thread safety concerns.
#ifndef LABKUBE_LIB_SERVICE_OPTIONS_H_
#define LABKUBE_LIB_SERVICE_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "lib/grpc_server.h"
#include "lib/http_server.h"

namespace labkube::service {

struct ServiceOptions {
  std::string kubeconfig;  // "" = $KUBECONFIG, in-cluster, ~/.kube/config
  // gRPC listen address (services without gRPC, the injector, ignore it).
  std::string grpc_address = "0.0.0.0:8443";
  // The HTTP(S) endpoint: /metrics, /healthz, /readyz (and the injector's webhook).
  std::string http_address = "0.0.0.0";
  int http_port = 9443;  // 0 = any free port
  // PEM files for both ports, re-read when they change.
  std::string tls_cert;
  std::string tls_key;
  // Mutual TLS: the CA of the client certificates callers must present ("" = none asked;
  // ignored with plaintext).
  std::string tls_client_ca;
  // Serve without TLS: local development only, both addresses must be loopback.
  bool plaintext = false;
  // Upper bound on the gRPC server's threads (calls beyond it: RESOURCE_EXHAUSTED).
  int max_threads = 16;
  int max_message_bytes = 4 * 1024 * 1024;  // largest gRPC request accepted
  std::string log_level = "info";           // debug|info|warn|error
  // This service's certificate toward the services it calls when they require mutual TLS.
  std::string client_cert;
  std::string client_key;
};

struct Serves {
  bool grpc = true;  // the service has a gRPC port (grpc_address is checked)
};

// kInvalidArgument naming the flag and what to do: an unknown log level, plaintext on a
// non-loopback address (either port) or together with a certificate or key, TLS without both certificate
// and key, a port out of range, threads or message size not positive, a client certificate
// without its key.
absl::Status CheckServiceOptions(const ServiceOptions& o, Serves serves = {});

// The gRPC server's options: address, TLS (no client CA when plaintext), threads, message size.
GrpcServerOptions GrpcOptionsOf(const ServiceOptions& o);
// The HTTP(S) endpoint's options: address, port, TLS, plaintext. The client CA is not set (the
// health and metrics endpoint asks for no certificate); the injector sets it for its webhook.
HttpServerOptions HttpOptionsOf(const ServiceOptions& o);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_OPTIONS_H_
