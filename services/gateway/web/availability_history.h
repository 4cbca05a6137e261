// AvailabilityHistory: what was free over the last hours, for the page's chart. One sample per
// `resolution` (the last state seen in that interval: free, used, waiting and maximum of each
// machine type), at most `keep / resolution` samples and `max_types` types per sample, so memory
// is bounded whatever happens. Fed by Record() - in production by a thread (Start) that follows
// the gateway's Availability (the same scheduler stream WatchMachineTypes serves) - and read as
// JSON by the page (only aggregate counts, no member's data).
//
// Ownership: borrows the Availability and the clock; Stop() (or the destructor) joins the thread.
// Thread safety: all methods are safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_WEB_AVAILABILITY_HISTORY_H_
#define LABKUBE_SERVICES_GATEWAY_WEB_AVAILABILITY_HISTORY_H_

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "services/gateway/availability.h"

namespace labkube::gateway::web {

struct HistoryOptions {
  absl::Duration resolution = absl::Minutes(1);
  absl::Duration keep = absl::Hours(6);
  size_t max_types = 64;
};

class AvailabilityHistory {
 public:
  AvailabilityHistory(Availability& availability, Clock& clock, HistoryOptions options = {});
  ~AvailabilityHistory();

  // Follows `availability` on a thread until Stop().
  void Start();
  void Stop();

  // Adds the state `types` at the clock's now (replacing the sample of the same interval).
  void Record(const std::vector<gw::MachineType>& types) ABSL_LOCKS_EXCLUDED(mu_);

  // {"resolutionSeconds": 60, "samples": [{"time": "<RFC 3339>", "types": [{"type":
  //  "group/name", "free": 1, "used": 0, "waiting": 0, "maximum": 2}, ...]}, ...]}, oldest first.
  std::string Json() ABSL_LOCKS_EXCLUDED(mu_);
  size_t SampleCount() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Count {
    std::string type;
    int free, used, waiting, maximum;
  };
  struct Sample {
    absl::Time bucket;
    std::vector<Count> counts;
  };
  void Follow();

  Availability& availability_;
  Clock& clock_;
  const HistoryOptions options_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<Sample> samples_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::gateway::web

#endif  // LABKUBE_SERVICES_GATEWAY_WEB_AVAILABILITY_HISTORY_H_
