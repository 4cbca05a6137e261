// The gateway's command-line flags (absl flags, defined in flags.cc beside the shared ones of
// lib/service/server_flags.h and client_flags.h) and their mapping onto Options, so main.cc
// stays a few lines. Call after absl::ParseCommandLine. Not thread-safe (reads flags once at
// start-up).
#ifndef LABKUBE_SERVICES_GATEWAY_FLAGS_H_
#define LABKUBE_SERVICES_GATEWAY_FLAGS_H_

#include "services/gateway/server.h"

namespace labkube::gateway {

Options OptionsFromFlags();

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_FLAGS_H_
