// Claimer: how the injector asks the scheduler for a slot of a machine type for one guest pod
// being admitted. The types here are plain domain values (no protobuf), so the decision and patch
// code, its tests and the fuzzer do not depend on gRPC; GrpcClaimer (grpc_claimer.h) is the real
// implementation over the Scheduler stub, FakeClaimer (testing/fake_claimer.h) the test double.
//
// Errors follow the scheduler's contract (proto/labkube/scheduler/v1alpha1/scheduler.proto):
// kNotFound (unknown group/type; the message lists the valid ones), kResourceExhausted (no free
// slot), kFailedPrecondition (every node of the type in maintenance / not ready), kUnavailable or
// kDeadlineExceeded (the scheduler did not answer in time), kInvalidArgument.
//
// Implementations must be safe to call from many threads at once (the webhook's workers).
#ifndef LABKUBE_SERVICES_INJECTOR_CLAIMER_H_
#define LABKUBE_SERVICES_INJECTOR_CLAIMER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::injector {

struct ClaimRequest {
  std::string group = "";
  std::string machine_type = "";
  std::string ns = "";
  std::string pod_name = "";  // "" when the pod only has generateName
  std::string generate_name = "";
  std::string admission_uid = "";  // AdmissionReview uid: a retried call gets the same claim
  bool dry_run = false;
  // The claim the pod already carries (annotations labkube.io/claim and claim-signature), when
  // the webhook is re-invoked for a pod it patched: the scheduler answers it again only if it
  // is live and was made for this very pod.
  std::string carried_claim = "";
  std::string carried_signature = "";
};

struct NodeRequirement {
  std::string key = "";
  std::string op = "";  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values = {};

  bool operator==(const NodeRequirement&) const = default;
};

struct Toleration {
  std::string key = "";
  std::string op = "";  // Equal | Exists
  std::string value = "";
  std::string effect = "";

  bool operator==(const Toleration&) const = default;
};

// What a granted claim puts into the guest pod.
struct ClaimResponse {
  std::string claim_id = "";
  std::string node = "";
  std::map<std::string, std::string> requests = {};  // resource name -> quantity; requests = limits
  std::map<std::string, std::string> limits = {};
  std::vector<NodeRequirement> node_affinity = {};  // ANDed into every required nodeSelectorTerm
  std::vector<Toleration> tolerations = {};
  std::map<std::string, std::string> annotations = {};  // labkube.io/claim, labkube.io/node
  bool dry_run = false;
  // No free slot: the pod waits in line (gate contract::kQueueGate, the type's resources,
  // affinity and tolerations, annotations labkube.io/queue-ticket and labkube.io/waiting);
  // claim_id and node are empty.
  bool queued = false;
  int32_t position = 0;  // 1-based place in line at admission
};

class Claimer {
 public:
  virtual ~Claimer() = default;
  // Claims a slot; gives up at `deadline` (kDeadlineExceeded or kUnavailable).
  virtual absl::StatusOr<ClaimResponse> Claim(const ClaimRequest& request, absl::Time deadline) = 0;
  // Gives back a claim whose pod will not be created (the webhook refused the pod after
  // claiming), so its slot is re-locked at once rather than after the claim's TTL. Best effort:
  // on failure the TTL still ends the claim. `signature`: the ClaimResponse's
  // labkube.io/claim-signature annotation.
  virtual absl::Status Release(const std::string& claim_id, const std::string& signature,
                               absl::Time deadline) = 0;
};

}  // namespace labkube::injector

#endif  // LABKUBE_SERVICES_INJECTOR_CLAIMER_H_
