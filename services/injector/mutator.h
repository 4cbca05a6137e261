// Mutator: the injector's decision for one admission request.
//
//   - Anything but the CREATE of a guest pod (labels labkube.io/pod-role=guest,
//     labkube.io/machine-group, labkube.io/machine-type) is allowed unchanged without asking the
//     scheduler. A pod labelled as a guest but missing the group or type label is refused.
//   - A guest pod gets a slot from the Claimer (the scheduler) and is patched with it
//     (patch_builder.h); the claim is keyed by the request uid (never by anything the pod's
//     author wrote). When the API server re-invokes the webhook (reinvocationPolicy: IfNeeded,
//     with a new request uid) the pod already carries the claim and its signature: the
//     scheduler answers that claim again only if it is live and was made for this very pod, so
//     nothing is patched twice and a claim copied from another pod is refused.
//   - Refusals are denials with an HTTP-style code and a message for the pod's author, prefixed
//     "labkube: ": scheduler NOT_FOUND -> 404, RESOURCE_EXHAUSTED -> 429, FAILED_PRECONDITION ->
//     409, INVALID_ARGUMENT -> 400, PERMISSION_DENIED -> 403, UNAVAILABLE / DEADLINE_EXCEEDED /
//     CANCELLED -> 503 ("labkube is unavailable: the scheduler did not answer (...); try again
//     shortly"), anything else -> 500. A pod that cannot take the claim (asks for more than the
//     type, unknown injecting container, malformed affinity/tolerations) -> 400. A pod that
//     already carries a different claim (copied from another pod) -> 409.
//   - A fresh claim whose pod is refused after claiming (one of the 400s or the 409 above) is
//     given back at once (Claimer::Release), so a failing create never holds a slot.
//
// Borrows the Claimer, which must outlive it. Decide() is const and thread-safe.
#ifndef LABKUBE_SERVICES_INJECTOR_MUTATOR_H_
#define LABKUBE_SERVICES_INJECTOR_MUTATOR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/contract.h"
#include "services/injector/admission.h"
#include "services/injector/claimer.h"

namespace labkube::injector {

using contract::kClaimAnnotation;
using contract::kClaimSignatureAnnotation;
using contract::kGroupLabel;
using contract::kRoleGuest;
using contract::kRoleLabel;
using contract::kTypeLabel;

struct Decision {
  AdmissionResult result;
  // Metric label: ignored | injected | unchanged | denied_<why> (see Outcome* in mutator.cc).
  std::string outcome;
  bool guest = false;  // the scheduler was (or would have been) asked
  // For the decision log line ("" when unknown).
  std::string ns;
  std::string pod;  // name, or generateName + "*"
  std::string group;
  std::string type;
  std::string node;
  std::string claim;
  // A claim given back because the pod was refused after claiming ("" none; else the result
  // of Release: "released", "not held" or the error).
  std::string released;
};

class Mutator {
 public:
  explicit Mutator(Claimer& claimer) : claimer_(claimer) {}

  // Decides `request`; the scheduler call gives up at `deadline`.
  Decision Decide(const AdmissionRequest& request, absl::Time deadline) const;

 private:
  void GiveBack(const ClaimResponse& claim, absl::Time deadline, Decision& d) const;

  Claimer& claimer_;
};

// The denial for a failed claim: HTTP-style code and user-facing message.
AdmissionResult DenialForClaimError(const absl::Status& status);

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_MUTATOR_H_
