#include "lib/service/client_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, client_cert, "",
          "this service's client certificate PEM toward the services it calls (mutual TLS)");
ABSL_FLAG(std::string, client_key, "", "its private key");

namespace labkube::service {

void ApplyClientFlags(ServiceOptions& o) {
  o.client_cert = absl::GetFlag(FLAGS_client_cert);
  o.client_key = absl::GetFlag(FLAGS_client_key);
}

}  // namespace labkube::service
