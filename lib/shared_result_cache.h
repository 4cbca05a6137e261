// SharedResultCache<V>: answers repeated reads of the same key from one recent result, and
// lets concurrent callers of a key that is not cached share one computation (single flight).
// For read paths where many clients poll the same thing (a workspace's status) and each answer
// costs several API server round trips: with N pollers the API server sees about one read per
// key per `ttl` instead of N. Only OK results are kept; an error goes to the callers that
// waited for that computation and is not cached. Invalidate() after a write so the writer's
// next read is fresh. An optional `keep` predicate says which results may be reused over time
// (e.g. only settled states); the others are shared only with callers that arrived while they
// were being computed.
//
// Ownership: borrows the clock (for freshness). Thread safety: safe from many threads; the
// computation runs without the lock held. Entries are dropped when read stale, on Invalidate,
// and by Prune (called from GetOrCompute every `ttl`), so memory follows the set of keys read
// within the last `ttl`.
#ifndef LABKUBE_LIB_SHARED_RESULT_CACHE_H_
#define LABKUBE_LIB_SHARED_RESULT_CACHE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"

namespace labkube {

template <typename V>
class SharedResultCache {
 public:
  // ttl <= 0 disables caching (single flight still applies).
  SharedResultCache(Clock& clock, absl::Duration ttl,
                    std::function<bool(const V&)> keep = [](const V&) { return true; })
      : clock_(clock), ttl_(ttl), keep_(std::move(keep)) {}

  absl::StatusOr<V> GetOrCompute(const std::string& key,
                                 const std::function<absl::StatusOr<V>()>& compute) {
    std::shared_ptr<Flight> flight;
    {
      absl::MutexLock lock(&mu_);
      PruneLocked();
      auto it = entries_.find(key);
      if (it != entries_.end() && it->second.flight->done &&
          it->second.flight->result.ok() && clock_.Now() - it->second.at < ttl_) {
        return it->second.flight->result;
      }
      if (it != entries_.end() && !it->second.flight->done) {
        flight = it->second.flight;
        mu_.Await(absl::Condition(&flight->done));
        return flight->result;
      }
      flight = std::make_shared<Flight>();
      entries_[key] = Entry{flight, clock_.Now()};
    }
    absl::StatusOr<V> result = compute();
    absl::MutexLock lock(&mu_);
    flight->result = result;
    flight->done = true;
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.flight == flight) {
      if (result.ok() && keep_(*result)) {
        it->second.at = clock_.Now();
      } else {
        entries_.erase(it);
      }
    }
    return result;
  }

  void Invalidate(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    // An in-flight computation may have read the old state: detach it so nobody reuses it.
    if (it != entries_.end()) entries_.erase(it);
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Flight {
    bool done = false;
    absl::StatusOr<V> result = absl::UnknownError("not computed");
  };
  struct Entry {
    std::shared_ptr<Flight> flight;
    absl::Time at;  // when the result arrived (or the flight started)
  };

  void PruneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time now = clock_.Now();
    if (now - last_prune_ < ttl_) return;
    last_prune_ = now;
    for (auto it = entries_.begin(); it != entries_.end();) {
      bool stale = it->second.flight->done && now - it->second.at >= ttl_;
      it = stale ? entries_.erase(it) : std::next(it);
    }
  }

  Clock& clock_;
  const absl::Duration ttl_;
  const std::function<bool(const V&)> keep_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace labkube

#endif  // LABKUBE_LIB_SHARED_RESULT_CACHE_H_
