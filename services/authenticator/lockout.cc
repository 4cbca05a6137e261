#include "services/authenticator/lockout.h"

#include <cmath>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"

namespace labkube::authenticator {
namespace {

constexpr char kRetryAfterPayload[] = "type.labkube.io/retry-after-seconds";

std::string UserKey(std::string_view user) { return absl::StrCat("user:", ToAbsl(user)); }
std::string PeerKey(std::string_view peer) { return absl::StrCat("peer:", ToAbsl(peer)); }

absl::Status Locked(std::string_view what, absl::Duration wait) {
  int64_t seconds = static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(wait)));
  if (seconds < 1) seconds = 1;
  absl::Status s = absl::ResourceExhaustedError(absl::StrCat(
      "too many failed attempts for this ", ToAbsl(what), "; retry in ", seconds, " s"));
  s.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(seconds)));
  return s;
}

}  // namespace

Lockout::Lockout(Clock& clock, LockoutOptions options) : clock_(clock), options_(options) {}

std::optional<absl::Time> Lockout::LockedUntilLocked(const std::string& key, absl::Time now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return std::nullopt;
  std::deque<absl::Time>& times = it->second;
  while (!times.empty() && times.front() + options_.window <= now) times.pop_front();
  if (times.empty()) {
    failures_.erase(it);
    return std::nullopt;
  }
  if (static_cast<int>(times.size()) < options_.max_failures) return std::nullopt;
  // Unlocked once all but max_failures-1 of the failures have aged out of the window.
  return times[times.size() - options_.max_failures] + options_.window;
}

absl::Status Lockout::Check(std::string_view user, std::string_view peer) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (!user.empty()) {
    if (auto until = LockedUntilLocked(UserKey(user), now)) return Locked("user", *until - now);
  }
  if (!peer.empty()) {
    if (auto until = LockedUntilLocked(PeerKey(peer), now)) return Locked("client", *until - now);
  }
  return absl::OkStatus();
}

void Lockout::AddFailureLocked(const std::string& key, absl::Time now) {
  std::deque<absl::Time>& times = failures_[key];
  times.push_back(now);
  // Only the newest max_failures matter.
  while (static_cast<int>(times.size()) > options_.max_failures) times.pop_front();
}

void Lockout::RecordFailure(std::string_view user, std::string_view peer) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (!user.empty()) AddFailureLocked(UserKey(user), now);
  if (!peer.empty()) AddFailureLocked(PeerKey(peer), now);
  if (failures_.size() > options_.max_keys) SweepLocked(now);
}

void Lockout::RecordSuccess(std::string_view user) {
  absl::MutexLock lock(&mu_);
  failures_.erase(UserKey(user));
}

void Lockout::SweepLocked(absl::Time now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    if (it->second.empty() || it->second.back() + options_.window <= now) {
      it = failures_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t Lockout::TrackedKeys() {
  absl::MutexLock lock(&mu_);
  return failures_.size();
}

std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kResourceExhausted) return std::nullopt;
  auto payload = status.GetPayload(kRetryAfterPayload);
  int64_t seconds = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &seconds)) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

std::string PeerAddress(std::string_view grpc_peer) {
  std::string_view p = grpc_peer;
  if (p.substr(0, 5) == "ipv4:") {
    p.remove_prefix(5);
    size_t colon = p.rfind(':');
    return std::string(colon == std::string_view::npos ? p : p.substr(0, colon));
  }
  if (p.substr(0, 5) == "ipv6:") {
    p.remove_prefix(5);
    // "[addr]:port", or URI-escaped "%5Baddr%5D:port" (newer gRPC).
    for (auto [open, close] :
         {std::pair<std::string_view, std::string_view>{"[", "]"}, {"%5B", "%5D"}}) {
      if (p.substr(0, open.size()) != open) continue;
      size_t end = p.find(close);
      if (end != std::string_view::npos) {
        return std::string(p.substr(open.size(), end - open.size()));
      }
    }
    return std::string(p);
  }
  return std::string(grpc_peer);
}

}  // namespace labkube::authenticator
