// Command-line flags of labkube-authenticator (beside the shared ones of
// lib/service/server_flags.h), turned into Options (and the bootstrap-admin subcommand's
// arguments), so main.cc stays a few lines. Call after absl::ParseCommandLine.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_FLAGS_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_FLAGS_H_

#include <string>

#include "services/authenticator/server.h"

namespace labkube::authenticator {

Options OptionsFromFlags();

struct BootstrapFlags {
  std::string name;
  bool password_stdin = false;
};
BootstrapFlags BootstrapFlagsFromFlags();

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_FLAGS_H_
