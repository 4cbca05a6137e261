#include "lib/call_limiter.h"

#include "absl/strings/str_cat.h"

namespace labkube {

CallLimiter::Slot::~Slot() {
  if (limiter_ != nullptr) limiter_->Release(caller_);
}

absl::StatusOr<CallLimiter::Slot> CallLimiter::Acquire(const std::string& caller) {
  absl::MutexLock lock(&mu_);
  if (open_ >= total_) {
    return absl::ResourceExhaustedError(absl::StrCat("this server already has ", total_, " ",
                                                     what_, " (its limit); retry shortly"));
  }
  int& mine = by_caller_[caller];
  if (mine >= per_caller_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(caller, " already has ", per_caller_, " ", what_,
                     " (the limit per caller); wait for one to end, then retry"));
  }
  ++mine;
  ++open_;
  return Slot(this, caller);
}

void CallLimiter::Release(const std::string& caller) {
  absl::MutexLock lock(&mu_);
  --open_;
  auto it = by_caller_.find(caller);
  if (it != by_caller_.end() && --it->second <= 0) by_caller_.erase(it);
}

int CallLimiter::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

std::string CallerOf(const std::string& peer, const std::string& certificate_identity) {
  if (!certificate_identity.empty()) return certificate_identity;
  if (peer.rfind("unix:", 0) == 0) return peer;
  size_t colon = peer.rfind(':');
  size_t first = peer.find(':');
  return colon == std::string::npos || colon == first ? peer : peer.substr(0, colon);
}

}  // namespace labkube
