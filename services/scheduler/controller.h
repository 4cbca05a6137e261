// Controller: keeps the SchedulerState fed from three informers (Machines, Nodes, all Pods)
// and runs the reconcile loop on its own thread: a pass after every change the plan depends on
// (coalesced to min_interval), after status-only changes within status_interval, and at
// least every `resync` (claim TTLs), acting only while `is_leader()`; after each pass it
// publishes availability and slot gauges.
//
// Borrows client, state, board, clock and registry; owns its informers, reconciler and thread.
// Start/Stop from one thread; the rest is thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_CONTROLLER_H_
#define LABKUBE_SERVICES_SCHEDULER_CONTROLLER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/metrics.h"
#include "services/scheduler/availability.h"
#include "services/scheduler/reconciler.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {

struct ControllerOptions {
  ReconcilerOptions reconciler;
  absl::Duration resync = absl::Seconds(2);
  // Passes are at least this far apart, so a burst of changes (a storm of claims) costs one
  // pass, not one per change. Claims never wait for passes.
  absl::Duration min_interval = absl::Milliseconds(100);
  // A change that moves only published numbers (a claim, its handover, a heartbeat) waits up to
  // this long for its pass (scheduler_state.h), so a claim storm is not a pass storm.
  absl::Duration status_interval = absl::Seconds(1);
};

class Controller {
 public:
  Controller(kube::Client& client, SchedulerState& state, AvailabilityBoard& board, Clock& clock,
             std::function<bool()> is_leader, metrics::Registry& registry,
             ControllerOptions options);
  ~Controller();

  void Start();
  // True once every informer has listed its objects.
  bool WaitForSync(absl::Time deadline);
  bool HasSynced();
  void Stop();

 private:
  void Loop();
  void Publish(const PassResult& result);

  SchedulerState& state_;
  AvailabilityBoard& board_;
  std::function<bool()> is_leader_;
  ControllerOptions options_;
  kube::Informer machines_;
  kube::Informer nodes_;
  kube::Informer pods_;
  Reconciler reconciler_;
  metrics::CounterFamily* passes_;
  metrics::HistogramFamily* pass_seconds_;      // wall time
  metrics::HistogramFamily* pass_cpu_seconds_;  // CPU time of the pass's thread
  metrics::GaugeFamily* slots_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CONTROLLER_H_
