// FakeClaimer: a Claimer for unit tests that behaves like the scheduler's Claim contract without
// gRPC: every admission uid gets its own claim id ("c-1", "c-2", ...) and the same uid always
// gets the same claim back; dry runs get "dry-run" and consume nothing. SetError makes the
// following calls fail. Records every request.
//
// Test-only. Owns its state; safe from many threads at once.
#ifndef LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_CLAIMER_H_
#define LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_CLAIMER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/injector/claimer.h"

namespace labkube::injector::testing {

class FakeClaimer final : public Claimer {
 public:
  // Claims look like `base` with claim_id and the labkube.io/claim annotation filled in (a
  // queued `base` is answered as it is).
  explicit FakeClaimer(ClaimResponse base = GpuClaim());

  absl::StatusOr<ClaimResponse> Claim(const ClaimRequest& request, absl::Time deadline) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // Released only when `claim_id` was issued, is not released yet and `signature` is its own
  // ("sig-<id>"); else kNotFound, like the scheduler's released=false.
  absl::Status Release(const std::string& claim_id, const std::string& signature,
                       absl::Time deadline) override ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> released() const ABSL_LOCKS_EXCLUDED(mu_);

  // Every following call fails with `status` (OK: succeed again).
  void SetError(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ClaimRequest> requests() const ABSL_LOCKS_EXCLUDED(mu_);
  int calls() const ABSL_LOCKS_EXCLUDED(mu_);
  // The deadline of each call, in order.
  std::vector<absl::Time> deadlines() const ABSL_LOCKS_EXCLUDED(mu_);

  // A slot of machine type "a100" of group "lab" on node gpu-1: cpu 8, memory 32Gi,
  // nvidia.com/gpu 1, the scheduler's node-affinity requirements and taint toleration, and the
  // annotation labkube.io/node.
  static ClaimResponse GpuClaim();

 private:
  const ClaimResponse base_;
  mutable absl::Mutex mu_;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::vector<ClaimRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> by_uid_ ABSL_GUARDED_BY(mu_);  // admission uid -> claim id
  std::set<std::string> issued_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> released_ ABSL_GUARDED_BY(mu_);  // claim ids handed out (signed "sig-<id>")
};

}  // namespace labkube::injector::testing

#endif  // LABKUBE_SERVICES_INJECTOR_TESTING_FAKE_CLAIMER_H_
