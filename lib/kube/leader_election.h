// LeaderElector: Lease-based leader election (coordination.k8s.io/v1 Lease), the protocol of
// client-go's leaderelection package, through the Client interface.
//
// A candidate takes the Lease when it is absent, released (holderIdentity "") or expired: its
// record has not changed for leaseDurationSeconds of *this* process's clock since this process
// first saw it (remote timestamps are written but never trusted, so clock skew does not matter).
// It then writes holderIdentity, leaseDurationSeconds, acquireTime, renewTime (RFC 3339 with
// microseconds) and leaseTransitions (+1 on every change of holder). The leader renews every
// retry_period; writes carry the read resourceVersion, so of two racing candidates one gets
// kAborted (409 Conflict) and stays a follower. A leader that has not renewed for
// renew_deadline (< lease_duration) steps down, and IsLeader() turns false at that moment even
// if a call to the API server is still hanging, before any other candidate can take over. One
// that sees another holder in the Lease steps down at once. A stepped-down elector stays a
// candidate. Stop() releases a held Lease (holderIdentity "") so a successor takes over at its
// next retry instead of waiting for expiry.
//
// Callbacks run on the elector's thread and must not block (start work elsewhere) nor call
// Stop(). on_stopped_leading also runs from Stop() when the elector was leading.
//
// Ownership: the client and clock are borrowed and must outlive the elector; the destructor
// calls Stop().
// Thread safety: all public methods are safe from any thread.
#ifndef LABKUBE_LIB_KUBE_LEADER_ELECTION_H_
#define LABKUBE_LIB_KUBE_LEADER_ELECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "rapidjson/document.h"

namespace labkube::kube {

struct LeaderElectionOptions {
  std::string ns;        // the Lease's namespace
  std::string name;      // the Lease's name
  std::string identity;  // unique per candidate (e.g. pod name)
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

// OK when ns, name and identity are set and 0 < retry_period < renew_deadline < lease_duration
// with lease_duration a whole number of seconds >= 1; else kInvalidArgument.
absl::Status ValidateLeaderElectionOptions(const LeaderElectionOptions& options);

class LeaderElector {
 public:
  // Validates the options (ValidateLeaderElectionOptions).
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(Client& client,
                                                               LeaderElectionOptions options,
                                                               Clock& clock = Clock::Real());

  // Prefer Create(). With invalid options the elector never runs (Run() logs the error).
  LeaderElector(Client& client, LeaderElectionOptions options, Clock& clock = Clock::Real());
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts campaigning on a background thread. Idempotent; no effect after Stop().
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Start() { Run(); }  // same as Run()
  // Stops the thread; if leading, releases the Lease and calls on_stopped_leading. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // True while this elector holds the Lease and renewed it less than renew_deadline ago.
  bool IsLeader() const ABSL_LOCKS_EXCLUDED(mu_);
  // The holder seen in the Lease at the last attempt ("" if none or not read yet).
  std::string LeaderIdentity() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Attempt { kHeld, kHeldByOther, kFailed };

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Updates the leading state after an attempt; calls the callbacks.
  void AfterAttempt(Attempt attempt, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  void SetLeading(bool leading) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns true when Stop() was requested, after waiting up to `timeout`.
  bool WaitForStop(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Lease I/O (leader_election.cc); called on the elector's thread only.
  Attempt TryAcquireOrRenew();
  Attempt CreateLease(absl::Time now);
  // Writes `lease` (as read, with its resourceVersion) with this elector as the holder.
  Attempt WriteLease(rapidjson::Document& lease, bool new_holder, absl::Time now);
  void ReleaseLease();

  Client& client_;
  const LeaderElectionOptions options_;
  Clock& clock_;
  const absl::Status options_status_;

  // What this process saw of the Lease, for expiry by the local clock (elector thread only).
  std::string observed_version_;
  absl::Time observed_time_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_renew_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string observed_holder_ ABSL_GUARDED_BY(mu_);
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// RFC 3339 with microseconds in UTC, as Kubernetes' MicroTime: 2026-01-02T03:04:05.000006Z.
std::string FormatMicroTime(absl::Time t);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_LEADER_ELECTION_H_
