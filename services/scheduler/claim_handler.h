// ClaimHandler: the handover. Reserves a slot in the SchedulerState, then deletes that slot's
// reservation pod (grace 0, UID precondition) so its capacity on the node is freed for exactly
// the guest being admitted, which the answer pins to that node. A reservation pod that cannot
// be deleted (changed under us) gives its claim back and the next one is tried.
//
// Borrows client and state. Thread-safe (the state serialises the decisions; the deletes run
// concurrently).
#ifndef LABKUBE_SERVICES_SCHEDULER_CLAIM_HANDLER_H_
#define LABKUBE_SERVICES_SCHEDULER_CLAIM_HANDLER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "services/scheduler/scheduler_state.h"

namespace labkube::scheduler {

class ClaimHandler {
 public:
  // `leading`: whether this replica still holds the lease (checked right before each delete,
  // so a replica that may have lost it makes no write).
  ClaimHandler(kube::Client& client, SchedulerState& state, std::string reservation_ns,
               std::function<bool()> leading = [] { return true; })
      : client_(client),
        state_(state),
        reservation_ns_(std::move(reservation_ns)),
        leading_(std::move(leading)) {}

  absl::StatusOr<ClaimDecision> Claim(const ClaimQuery& query);
  // A claim whose pod will not be created: its slot is re-locked by the next pass. False when
  // the claim is unknown, already held by its pod, expired or `signature` is not its own.
  bool Release(const std::string& claim_id, const std::string& signature) {
    return state_.ReleaseClaim(claim_id, signature);
  }

 private:
  kube::Client& client_;
  SchedulerState& state_;
  const std::string reservation_ns_;
  const std::function<bool()> leading_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CLAIM_HANDLER_H_
