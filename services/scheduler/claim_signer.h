// ClaimSigner: proves that a guest pod carries a claim the scheduler issued to that pod.
//
// The scheduler signs each claim it hands out (HMAC-SHA256 with a key only its replicas hold,
// claim_key.h) over the claim id, the pod's namespace and name (or generateName + "*"), the
// machine group and type, the node and the time of issue. The injector copies the signature into
// the pod (annotation labkube.io/claim-signature); the scheduler counts a pod as a guest only when
// the signature matches the pod's own namespace, name, labels and node. So a member cannot make a
// pod a guest by writing labels and annotations, nor move a claim to another pod, namespace, type
// or node. A signature, unlike a record in one replica's memory, survives a leader failover.
//
// Signature text: "v1.<issued unix seconds>.<hex HMAC>".
// Immutable after construction; thread-safe.
#ifndef LABKUBE_SERVICES_SCHEDULER_CLAIM_SIGNER_H_
#define LABKUBE_SERVICES_SCHEDULER_CLAIM_SIGNER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace labkube::scheduler {

// What a claim binds together.
struct ClaimToken {
  std::string id;
  std::string ns;
  std::string who;  // pod name, or generateName + "*"
  std::string group;
  std::string type;
  std::string node;
  absl::Time issued;  // whole seconds
};

class ClaimSigner {
 public:
  // `key`: at least 32 bytes of secret.
  static absl::StatusOr<ClaimSigner> Create(std::string key);

  std::string Sign(const ClaimToken& token) const;
  // Whether `signature` was made by Sign for exactly `token` (its `issued` is read from the
  // signature and returned through `issued`, which may be null).
  bool Verify(ClaimToken token, std::string_view signature, absl::Time* issued = nullptr) const;

 private:
  explicit ClaimSigner(std::string key) : key_(std::move(key)) {}
  std::string Mac(const ClaimToken& token) const;

  std::string key_;
};

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CLAIM_SIGNER_H_
