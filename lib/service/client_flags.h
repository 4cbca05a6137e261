// The flags of the labkube services that call others over mutual TLS (gateway, injector),
// defined once (absl flags in client_flags.cc): --client_cert, --client_key.
// ApplyClientFlags sets ServiceOptions.client_cert and client_key. Call after
// absl::ParseCommandLine. Not thread-safe (reads flags once at start-up).
#ifndef LABKUBE_LIB_SERVICE_CLIENT_FLAGS_H_
#define LABKUBE_LIB_SERVICE_CLIENT_FLAGS_H_

#include "lib/service/options.h"

namespace labkube::service {

void ApplyClientFlags(ServiceOptions& o);

}  // namespace labkube::service

#endif  // LABKUBE_LIB_SERVICE_CLIENT_FLAGS_H_
