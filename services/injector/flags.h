// The injector's command-line flags (absl flags, defined in flags.cc beside the shared ones of
// lib/service/flags.h and client_flags.h) and their mapping onto Options, so main.cc stays a
// few lines. Call after absl::ParseCommandLine. Not thread-safe (reads flags once at start-up).
#ifndef LABKUBE_SERVICES_INJECTOR_FLAGS_H_
#define LABKUBE_SERVICES_INJECTOR_FLAGS_H_

#include "absl/time/time.h"
#include "services/injector/server.h"

namespace labkube::injector {

Options OptionsFromFlags();
// --shutdown_delay_ms: how long DrainAndShutdown keeps answering before it stops.
absl::Duration ShutdownDelayFromFlags();

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_FLAGS_H_
