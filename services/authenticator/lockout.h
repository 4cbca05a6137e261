// Lockout: brute-force protection for password checks. After `max_failures` failures within
// `window` for one user or for one peer (client IP address), further attempts for that user or
// from that peer are refused with kResourceExhausted until enough of those failures are older
// than `window`. The status carries the wait as a payload (RetryAfter()) and in its message.
// Refused attempts are not counted (the lock lifts at a predictable time). A success clears the
// user's failures (not the peer's: one account's success must not unlock guessing at others).
//
// State is in memory, per process: with N replicas an attacker gets up to N times the budget.
// Keys whose failures have all expired are dropped whenever the table grows past `max_keys`.
//
// Ownership: borrows the clock. Thread safety: all methods are safe from many threads.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_LOCKOUT_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_LOCKOUT_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"

namespace labkube::authenticator {

struct LockoutOptions {
  int max_failures = 5;
  absl::Duration window = absl::Minutes(5);
  size_t max_keys = 100000;
};

class Lockout {
 public:
  Lockout(Clock& clock, LockoutOptions options);

  // OK, or kResourceExhausted naming what is locked and for how long. Either key may be "".
  absl::Status Check(std::string_view user, std::string_view peer) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordFailure(std::string_view user, std::string_view peer) ABSL_LOCKS_EXCLUDED(mu_);
  void RecordSuccess(std::string_view user) ABSL_LOCKS_EXCLUDED(mu_);

  // Keys currently tracked (for tests and metrics).
  size_t TrackedKeys() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // When `key` unlocks, or nullopt if it is not locked now. Prunes its expired failures.
  std::optional<absl::Time> LockedUntilLocked(const std::string& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddFailureLocked(const std::string& key, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SweepLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const LockoutOptions options_;
  absl::Mutex mu_;
  std::map<std::string, std::deque<absl::Time>, std::less<>> failures_ ABSL_GUARDED_BY(mu_);
};

// The retry delay a kResourceExhausted status from Check() carries; nullopt for other statuses.
std::optional<absl::Duration> RetryAfter(const absl::Status& status);

// Just the address of a gRPC peer string: "ipv4:10.0.0.1:5678" -> "10.0.0.1",
// "ipv6:[::1]:5678" -> "::1"; anything else is returned unchanged.
std::string PeerAddress(std::string_view grpc_peer);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_LOCKOUT_H_
