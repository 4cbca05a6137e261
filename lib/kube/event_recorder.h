// EventRecorder: writes core/v1 Events about objects (what `kubectl describe` and
// `kubectl get events` show), as Kubernetes controllers do: one Event per call, named
// "<object>.<hex time>", with reason, message, type (Normal | Warning), the reporting
// component and instance, and the time from the injected clock.
//
// Events are advice, not state: a failed write is returned for the caller to log and is never
// retried. Borrows the client and the clock (they must outlive it). Thread-safe (the client
// is).
#ifndef LABKUBE_LIB_KUBE_EVENT_RECORDER_H_
#define LABKUBE_LIB_KUBE_EVENT_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "lib/clock.h"
#include "lib/kube/client.h"

namespace labkube::kube {

struct EventTarget {
  std::string api_version = "v1";
  std::string kind = "Pod";
  std::string ns;
  std::string name;
  std::string uid;
};

class EventRecorder {
 public:
  // `component`: e.g. "labkube-scheduler"; `instance`: the replica (its identity).
  EventRecorder(Client& client, Clock& clock, std::string component, std::string instance);

  absl::Status Normal(const EventTarget& target, std::string_view reason,
                      std::string_view message);
  absl::Status Warning(const EventTarget& target, std::string_view reason,
                       std::string_view message);

 private:
  absl::Status Record(const EventTarget& target, std::string_view type, std::string_view reason,
                      std::string_view message);

  Client& client_;
  Clock& clock_;
  const std::string component_;
  const std::string instance_;
  std::atomic<uint32_t> next_{0};
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_EVENT_RECORDER_H_
