// The flags of the labkube services that serve gRPC beside their HTTPS endpoint (scheduler,
// authenticator, gateway), defined once (absl flags in server_flags.cc):
//   --kubeconfig, --grpc_address, --http_address, --http_port
// ApplyServerFlags sets those and flags.h's (ApplyFlags) in a service's Options. Call after
// absl::ParseCommandLine. Not thread-safe (reads flags once at start-up).
#ifndef LABKUBE_LIB_SERVICE_SERVER_FLAGS_H_
#define LABKUBE_LIB_SERVICE_SERVER_FLAGS_H_

#include "lib/service/options.h"

namespace labkube::service {

void ApplyServerFlags(ServiceOptions& o);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_SERVER_FLAGS_H_
