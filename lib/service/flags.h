// The command-line flags every labkube service shares, defined once (absl flags in flags.cc):
//   --tls_cert, --tls_key, --plaintext, --log_level
// ApplyFlags copies them into a service's Options (which derives from ServiceOptions), leaving
// every other field as the service's Options set it. Call after absl::ParseCommandLine.
// Not thread-safe (reads flags once at start-up). More groups: server_flags.h (the gRPC
// services' ports and kubeconfig), client_flags.h (a client certificate toward other services).
#ifndef LABKUBE_LIB_SERVICE_FLAGS_H_
#define LABKUBE_LIB_SERVICE_FLAGS_H_

#include "lib/service/options.h"

namespace labkube::service {

void ApplyFlags(ServiceOptions& o);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_FLAGS_H_
