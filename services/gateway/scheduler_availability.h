// SchedulerAvailability: Availability from the scheduler. One background thread keeps a
// WatchAvailability stream open (reconnecting with backoff) and publishes each update as a new
// snapshot, so any number of gateway callers share one stream. While the stream is down,
// Current() asks the scheduler directly (ListMachineTypes, with a deadline). Queue() asks the
// scheduler's GetQueue each time (with a deadline): lines change with every handover.
//
// Ownership: shares the channel; owns its thread (Stop() or the destructor joins it).
// Thread safety: all methods are safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_SCHEDULER_AVAILABILITY_H_
#define LABKUBE_SERVICES_GATEWAY_SCHEDULER_AVAILABILITY_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h"
#include "services/gateway/availability.h"

namespace labkube::gateway {

namespace sched = ::labkube::scheduler::v1alpha1;

struct SchedulerAvailabilityOptions {
  absl::Duration call_timeout = absl::Seconds(5);
  absl::Duration min_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
};

class SchedulerAvailability : public Availability {
 public:
  SchedulerAvailability(std::shared_ptr<grpc::Channel> channel,
                        SchedulerAvailabilityOptions options = {});
  ~SchedulerAvailability() override;

  // Starts the watch thread. Call once.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the stream and joins the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<AvailabilitySnapshot> Current() override ABSL_LOCKS_EXCLUDED(mu_);
  AvailabilitySnapshot WaitNewer(uint64_t version, absl::Duration timeout) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<gw::Queue> Queue(const gw::MachineType& type) override;

  // True while the stream is up and has delivered at least one update.
  bool Connected() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // One stream until it ends; returns its final status.
  grpc::Status WatchOnce() ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<sched::Scheduler::Stub> stub_;
  const SchedulerAvailabilityOptions options_;
  std::thread thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  AvailabilitySnapshot snapshot_ ABSL_GUARDED_BY(mu_);
};

// Scheduler proto -> gateway proto.
gw::MachineType FromScheduler(const sched::MachineType& in);
// Scheduler Queue -> gateway Queue (RFC 3339 times -> Timestamps; member/mine/workspace unset).
gw::Queue FromScheduler(const sched::Queue& in);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_SCHEDULER_AVAILABILITY_H_
