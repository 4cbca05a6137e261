#include "lib/kube/leader_election.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/objects.h"
#include "lib/kube/resource.h"
#include "lib/log.h"

namespace labkube::kube {
namespace {

int64_t WholeSeconds(absl::Duration d) { return absl::ToInt64Seconds(d); }

// Sets the fields every write of the Lease spec carries.
void SetHolder(rapidjson::Document& lease, const LeaderElectionOptions& options, absl::Time now) {
  json::SetString(lease, {"spec", "holderIdentity"}, options.identity);
  json::SetInt(lease, {"spec", "leaseDurationSeconds"}, WholeSeconds(options.lease_duration));
  json::SetString(lease, {"spec", "renewTime"}, FormatMicroTime(now));
}

}  // namespace

std::string FormatMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::Status ValidateLeaderElectionOptions(const LeaderElectionOptions& o) {
  if (o.ns.empty() || o.name.empty() || o.identity.empty()) {
    return absl::InvalidArgumentError("leader election: namespace, name and identity are required");
  }
  if (o.retry_period <= absl::ZeroDuration() || o.retry_period >= o.renew_deadline ||
      o.renew_deadline >= o.lease_duration) {
    return absl::InvalidArgumentError(
        "leader election: need 0 < retry_period < renew_deadline < lease_duration");
  }
  if (o.lease_duration < absl::Seconds(1) ||
      o.lease_duration != absl::Seconds(WholeSeconds(o.lease_duration))) {
    return absl::InvalidArgumentError(
        "leader election: lease_duration must be a whole number of seconds");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(Client& client,
                                                                     LeaderElectionOptions options,
                                                                     Clock& clock) {
  absl::Status status = ValidateLeaderElectionOptions(options);
  if (!status.ok()) return status;
  return std::make_unique<LeaderElector>(client, std::move(options), clock);
}

LeaderElector::LeaderElector(Client& client, LeaderElectionOptions options, Clock& clock)
    : client_(client),
      options_(std::move(options)),
      clock_(clock),
      options_status_(ValidateLeaderElectionOptions(options_)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Run() {
  if (!options_status_.ok()) {
    LogEvent(LogLevel::kError, "leader_election.invalid_options",
             {{"error", options_status_}, {"lease", options_.name}});
    return;
  }
  absl::MutexLock lock(&mu_);
  if (running_ || stop_) return;
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void LeaderElector::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool LeaderElector::IsLeader() const {
  absl::MutexLock lock(&mu_);
  return leading_ && clock_.Now() - last_renew_ < options_.renew_deadline;
}

std::string LeaderElector::LeaderIdentity() const {
  absl::MutexLock lock(&mu_);
  return observed_holder_;
}

bool LeaderElector::WaitForStop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return clock_.AwaitWithTimeout(mu_, absl::Condition(&stop_), timeout);
}

void LeaderElector::Loop() {
  while (true) {
    Attempt attempt = TryAcquireOrRenew();
    AfterAttempt(attempt, clock_.Now());
    if (WaitForStop(options_.retry_period)) break;
  }
  bool was_leading;
  {
    absl::MutexLock lock(&mu_);
    was_leading = leading_;
  }
  ReleaseLease();  // also after a step-down: the record may still name this elector
  if (was_leading) SetLeading(false);
}

void LeaderElector::AfterAttempt(Attempt attempt, absl::Time now) {
  bool leading;
  {
    absl::MutexLock lock(&mu_);
    if (attempt == Attempt::kHeld) last_renew_ = now;
    leading = leading_;
  }
  if (attempt == Attempt::kHeld && !leading) {
    SetLeading(true);
  } else if (leading && attempt == Attempt::kHeldByOther) {
    LogEvent(LogLevel::kWarn, "leader_election.lease_taken",
             {{"lease", options_.name}, {"holder", LeaderIdentity()}});
    SetLeading(false);
  } else if (leading && attempt == Attempt::kFailed) {
    absl::Time last_renew;
    {
      absl::MutexLock lock(&mu_);
      last_renew = last_renew_;
    }
    if (now - last_renew >= options_.renew_deadline) {
      LogEvent(LogLevel::kWarn, "leader_election.renew_deadline_passed",
               {{"lease", options_.name},
                {"since_last_renew_ms", absl::ToDoubleMilliseconds(now - last_renew)}});
      SetLeading(false);
    }
  }
}

void LeaderElector::SetLeading(bool leading) {
  {
    absl::MutexLock lock(&mu_);
    leading_ = leading;
  }
  LogEvent(LogLevel::kInfo,
           leading ? "leader_election.started_leading" : "leader_election.stopped_leading",
           {{"namespace", options_.ns}, {"lease", options_.name}, {"identity", options_.identity}});
  const std::function<void()>& callback =
      leading ? options_.on_started_leading : options_.on_stopped_leading;
  if (callback) callback();
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  absl::Time now = clock_.Now();
  absl::StatusOr<rapidjson::Document> lease =
      client_.Get(resources::Leases(), options_.ns, options_.name);
  if (absl::IsNotFound(lease.status())) return CreateLease(now);
  if (!lease.ok()) {
    LogEvent(LogLevel::kWarn, "leader_election.get_failed",
             {{"lease", options_.name}, {"error", lease.status()}});
    return Attempt::kFailed;
  }
  std::string holder(json::GetString(*lease, {"spec", "holderIdentity"}));
  std::string version(json::GetString(*lease, {"metadata", "resourceVersion"}));
  {
    absl::MutexLock lock(&mu_);
    observed_holder_ = holder;
  }
  if (version != observed_version_) {
    observed_version_ = version;
    observed_time_ = now;
  }
  int64_t seconds = json::GetInt(*lease, {"spec", "leaseDurationSeconds"});
  absl::Duration duration = seconds > 0 ? absl::Seconds(seconds) : options_.lease_duration;
  if (!holder.empty() && holder != options_.identity && now < observed_time_ + duration) {
    return Attempt::kHeldByOther;
  }
  return WriteLease(*lease, holder != options_.identity, now);
}

LeaderElector::Attempt LeaderElector::WriteLease(rapidjson::Document& lease, bool new_holder,
                                                 absl::Time now) {
  if (new_holder) {
    json::SetString(lease, {"spec", "acquireTime"}, FormatMicroTime(now));
    json::SetInt(lease, {"spec", "leaseTransitions"},
                 json::GetInt(lease, {"spec", "leaseTransitions"}) + 1);
  }
  SetHolder(lease, options_, now);
  absl::StatusOr<rapidjson::Document> updated =
      client_.Update(resources::Leases(), options_.ns, options_.name, lease);
  if (!updated.ok()) {
    LogEvent(absl::IsAborted(updated.status()) ? LogLevel::kDebug : LogLevel::kWarn,
             "leader_election.update_failed",
             {{"lease", options_.name}, {"error", updated.status()}});
    return Attempt::kFailed;
  }
  observed_version_ = std::string(json::GetString(*updated, {"metadata", "resourceVersion"}));
  observed_time_ = now;
  absl::MutexLock lock(&mu_);
  observed_holder_ = options_.identity;
  return Attempt::kHeld;
}

LeaderElector::Attempt LeaderElector::CreateLease(absl::Time now) {
  ObjectMeta meta;
  meta.name = options_.name;
  meta.namespace_ = options_.ns;
  Builder b;
  absl::StatusOr<rapidjson::Document> lease = b.Finish(b.Manifest(
      resources::Leases().ApiVersion(), resources::Leases().kind, meta,
      {{"spec",
        b.Object({{"holderIdentity", b.Str(options_.identity)},
                  {"leaseDurationSeconds", b.Int(WholeSeconds(options_.lease_duration))},
                  {"renewTime", b.Str(FormatMicroTime(now))},
                  {"acquireTime", b.Str(FormatMicroTime(now))},
                  {"leaseTransitions", b.Int(0)}})}}));
  if (!lease.ok()) {
    LogEvent(LogLevel::kWarn, "leader_election.create_failed",
             {{"lease", options_.name}, {"error", lease.status()}});
    return Attempt::kFailed;
  }
  absl::StatusOr<rapidjson::Document> created =
      client_.Create(resources::Leases(), options_.ns, *lease);
  if (!created.ok()) {
    LogEvent(absl::IsAlreadyExists(created.status()) ? LogLevel::kDebug : LogLevel::kWarn,
             "leader_election.create_failed",
             {{"lease", options_.name}, {"error", created.status()}});
    return Attempt::kFailed;
  }
  observed_version_ = std::string(json::GetString(*created, {"metadata", "resourceVersion"}));
  observed_time_ = now;
  absl::MutexLock lock(&mu_);
  observed_holder_ = options_.identity;
  return Attempt::kHeld;
}

void LeaderElector::ReleaseLease() {
  absl::StatusOr<rapidjson::Document> lease =
      client_.Get(resources::Leases(), options_.ns, options_.name);
  if (!lease.ok() || json::GetString(*lease, {"spec", "holderIdentity"}) != options_.identity) {
    return;  // gone or no longer ours: nothing to release
  }
  absl::Time now = clock_.Now();
  json::SetString(*lease, {"spec", "holderIdentity"}, "");
  json::SetInt(*lease, {"spec", "leaseDurationSeconds"}, 1);
  json::SetString(*lease, {"spec", "acquireTime"}, FormatMicroTime(now));
  json::SetString(*lease, {"spec", "renewTime"}, FormatMicroTime(now));
  absl::Status status =
      client_.Update(resources::Leases(), options_.ns, options_.name, *lease).status();
  if (!status.ok()) {
    LogEvent(LogLevel::kWarn, "leader_election.release_failed",
             {{"lease", options_.name}, {"error", status}});
  }
}

}  // namespace labkube::kube
