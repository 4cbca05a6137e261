// The first admin: `labkube-authenticator bootstrap-admin --name=NAME --password_stdin
// [--kubeconfig=...]` creates (or repairs) member NAME with labkube.io/admin=true and sets its
// password (read from the first line of stdin, so it never appears in a process list or shell
// history). Run it with cluster-admin credentials, or inside the authenticator pod (its RBAC
// suffices). Re-running it resets that admin's password. See docs/authenticator.md.
//
// Stateless functions; BootstrapAdmin borrows the client.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_BOOTSTRAP_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_BOOTSTRAP_H_

#include <istream>
#include <string>

#include "absl/status/status.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "services/authenticator/server.h"

namespace labkube::authenticator {

absl::Status BootstrapAdmin(kube::Client& client, Clock& clock, const Options& options,
                            const std::string& name, const std::string& password);

// Reads the password from `password_in`, connects with options.kubeconfig, runs BootstrapAdmin
// and prints the outcome. Returns the process exit code.
int RunBootstrapAdmin(const Options& options, const std::string& name, bool password_stdin,
                      std::istream& password_in);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_BOOTSTRAP_H_
