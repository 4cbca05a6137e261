// Availability: the machine types members may ask for, with spec and usage, as the gateway
// serves them (gateway.proto MachineType). SchedulerAvailability (scheduler_availability.h)
// keeps one WatchAvailability stream to the scheduler for every caller; tests use a fake.
//
// ResolveMachineType turns what a member typed ("type" or "group/type") into one machine type,
// with errors that list the valid choices.
//
// Thread safety: implementations are safe from many threads.
#ifndef LABKUBE_SERVICES_GATEWAY_AVAILABILITY_H_
#define LABKUBE_SERVICES_GATEWAY_AVAILABILITY_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

struct AvailabilitySnapshot {
  uint64_t version = 0;  // grows with every update; 0 = none yet
  std::vector<gw::MachineType> types;
};

class Availability {
 public:
  virtual ~Availability() = default;
  // The machine types now; kUnavailable (saying so) when the scheduler cannot be reached.
  virtual absl::StatusOr<AvailabilitySnapshot> Current() = 0;
  // Blocks until there is a snapshot whose version differs from `version`, or `timeout`
  // passes; returns the latest snapshot either way.
  virtual AvailabilitySnapshot WaitNewer(uint64_t version, absl::Duration timeout) = 0;
  // The line of `type` as the scheduler sees it (entries with namespace, pod, position, since
  // and estimate; member, mine and workspace unset: queue_view.h fills them for a caller).
  // kUnavailable when the scheduler cannot be reached, kNotFound for a type it does not know.
  virtual absl::StatusOr<gw::Queue> Queue(const gw::MachineType& type) = 0;
};

// `spec` is "type" or "group/type". kInvalidArgument "machine_type is required" / "...: the
// type exists in several groups (a/x, b/x): name one as group/type"; kNotFound "unknown machine
// type ...; valid: g/a, g/b".
absl::StatusOr<gw::MachineType> ResolveMachineType(const std::vector<gw::MachineType>& types,
                                                   std::string_view spec);

// Only the types of `group` ("" = all).
std::vector<gw::MachineType> FilterGroup(const std::vector<gw::MachineType>& types,
                                         std::string_view group);

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_AVAILABILITY_H_
