// The scheduler's claim signing key (claim_signer.h), shared by its replicas through a Secret in
// labkube's namespace that only the scheduler's ServiceAccount may read: the first replica that
// finds none creates it with 32 random bytes; the others (and later restarts) read it. Deleting
// the Secret rotates the key at the next restart and makes every running guest's claim invalid,
// so an admin does that only with no guests running.
// Stateless functions; safe from any thread (the client must be).
#ifndef LABKUBE_SERVICES_SCHEDULER_CLAIM_KEY_H_
#define LABKUBE_SERVICES_SCHEDULER_CLAIM_KEY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"

namespace labkube::scheduler {

inline constexpr char kClaimKeyField[] = "key";  // data field of the Secret

// The key in Secret ns/name, created when missing. Errors name the Secret and what to do.
absl::StatusOr<std::string> LoadOrCreateClaimKey(kube::Client& client, std::string_view ns,
                                                 std::string_view name);

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CLAIM_KEY_H_
