#include "lib/service/flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "", "TLS certificate PEM file (reloaded on change)");
ABSL_FLAG(std::string, tls_key, "", "TLS private key PEM file");
ABSL_FLAG(bool, plaintext, false, "serve without TLS (loopback only, for local development)");
ABSL_FLAG(std::string, log_level, "info", "debug|info|warn|error");

namespace labkube::service {

void ApplyFlags(ServiceOptions& o) {
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.plaintext = absl::GetFlag(FLAGS_plaintext);
  o.log_level = absl::GetFlag(FLAGS_log_level);
}

}  // namespace labkube::service
