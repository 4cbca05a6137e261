// AvailabilityBoard: the latest per-machine-type availability (spec + usage), published by the
// controller loop after each pass and read by the gRPC service, with a version so streaming
// watchers wake only on real changes.
// Thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_AVAILABILITY_H_
#define LABKUBE_SERVICES_SCHEDULER_AVAILABILITY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/scheduler/planner.h"

namespace labkube::scheduler {

struct TypeAvailability {
  std::string group;
  MachineType type;
  TypeStatus status;
  // Distinct nvidia.com/gpu.product labels of the nodes serving the type (what users get when
  // the type names only a family or a machine), sorted.
  std::vector<std::string> gpu_products;
};

using AvailabilityList = std::vector<TypeAvailability>;

// One entry per machine type of every live group, in Machine order then declaration order.
AvailabilityList BuildAvailability(const PlannerInput& input, const Plan& plan);

class AvailabilityBoard {
 public:
  // Replaces the list; bumps the version only if something a user sees changed.
  void Publish(AvailabilityList list) ABSL_LOCKS_EXCLUDED(mu_);
  std::pair<uint64_t, std::shared_ptr<const AvailabilityList>> Current() ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until the version differs from `seen` or `timeout` passes (real time); returns the
  // current version.
  uint64_t WaitNewer(uint64_t seen, absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes every waiter (shutdown).
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::string signature_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const AvailabilityList> list_ ABSL_GUARDED_BY(mu_) =
      std::make_shared<AvailabilityList>();
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_AVAILABILITY_H_
