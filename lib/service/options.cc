#include "lib/service/options.h"

#include "absl/strings/str_cat.h"
#include "lib/log.h"
#include "lib/status_macros.h"

namespace labkube::service {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::Status CheckTls(const ServiceOptions& o, Serves serves) {
  if (o.plaintext) {
    if (!o.tls_cert.empty() || !o.tls_key.empty()) {
      return Invalid("--plaintext serves without TLS: leave out --tls_cert and --tls_key, or drop "
                     "--plaintext");
    }
    if (serves.grpc && !IsLoopbackAddress(o.grpc_address)) {
      return Invalid(absl::StrCat("--plaintext is only for loopback addresses (local "
                                  "development); --grpc_address is ",
                                  o.grpc_address));
    }
    if (!IsLoopbackHost(o.http_address)) {
      return Invalid(absl::StrCat("--plaintext is only for loopback addresses (local "
                                  "development); the HTTP address is ",
                                  o.http_address));
    }
    return absl::OkStatus();
  }
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return Invalid("--tls_cert and --tls_key are required (or --plaintext on a loopback address)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckServiceOptions(const ServiceOptions& o, Serves serves) {
  if (absl::Status s = ParseLogLevel(o.log_level).status(); !s.ok()) {
    return Invalid(absl::StrCat("--log_level: ", s.message()));
  }
  LK_RETURN_IF_ERROR(CheckTls(o, serves));
  if (o.http_port < 0 || o.http_port > 65535) {
    return Invalid(absl::StrCat("the HTTP port must be 0 (any free port) to 65535, not ",
                                o.http_port));
  }
  if (o.max_threads < 2 || o.max_message_bytes <= 0) {
    return Invalid("max_threads must be at least 2 and max_message_bytes positive");
  }
  if (o.client_cert.empty() != o.client_key.empty()) {
    return Invalid("--client_cert and --client_key go together (the certificate and its key)");
  }
  return absl::OkStatus();
}

GrpcServerOptions GrpcOptionsOf(const ServiceOptions& o) {
  GrpcServerOptions go;
  go.address = o.grpc_address;
  go.plaintext = o.plaintext;
  if (!o.plaintext) {
    go.tls_cert_file = o.tls_cert;
    go.tls_key_file = o.tls_key;
    go.tls_client_ca_file = o.tls_client_ca;
  }
  go.max_threads = o.max_threads;
  go.max_receive_message_bytes = o.max_message_bytes;
  return go;
}

HttpServerOptions HttpOptionsOf(const ServiceOptions& o) {
  HttpServerOptions ho;
  ho.address = o.http_address;
  ho.port = o.http_port;
  ho.allow_plaintext = o.plaintext;
  if (!o.plaintext) {
    ho.tls_cert_file = o.tls_cert;
    ho.tls_key_file = o.tls_key;
  }
  return ho;
}

}  // namespace labkube::service
