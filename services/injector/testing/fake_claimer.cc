#include "services/injector/testing/fake_claimer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/contract.h"

namespace labkube::injector::testing {
namespace {

// The node label and taint key of machine type `type` (labkube.io/<type>).
std::string TypeKey(absl::string_view type) { return absl::StrCat(contract::kPrefix, type); }

}  // namespace

FakeClaimer::FakeClaimer(ClaimResponse base) : base_(std::move(base)) {}

ClaimResponse FakeClaimer::GpuClaim() {
  ClaimResponse c;
  c.node = "gpu-1";
  c.requests = {{"cpu", "8"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "1"}};
  c.limits = c.requests;
  c.node_affinity = {{TypeKey("a100"), "In", {"lab"}},
                     {contract::kNodePoolLabel, "In", {"ready"}},
                     {"nvidia.com/gpu.product", "In", {"NVIDIA-A100-SXM4-80GB"}},
                     {"kubernetes.io/hostname", "In", {"gpu-1"}}};
  c.tolerations = {{TypeKey("a100"), "Equal", "lab", "NoSchedule"}};
  c.annotations = {{contract::kNodeAnnotation, "gpu-1"}};
  return c;
}

absl::StatusOr<ClaimResponse> FakeClaimer::Claim(const ClaimRequest& request, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(request);
  deadlines_.push_back(deadline);
  if (!error_.ok()) return error_;
  ClaimResponse out = base_;
  out.dry_run = request.dry_run;
  if (out.queued) return out;  // waits in line: no claim
  if (!request.carried_claim.empty()) {
    // As the scheduler: only a claim it gave, presented with its signature, is answered again.
    if (!issued_.count(request.carried_claim) ||
        request.carried_signature != absl::StrCat("sig-", request.carried_claim)) {
      return absl::FailedPreconditionError(
          absl::StrCat("this pod carries claim ", request.carried_claim,
                       ", which labkube did not give to this pod or which has ended"));
    }
    out.claim_id = request.carried_claim;
  } else if (request.dry_run) {
    out.claim_id = contract::kDryRunClaim;
  } else {
    std::string& id = by_uid_[request.admission_uid];
    if (id.empty()) id = absl::StrCat("c-", by_uid_.size());
    out.claim_id = id;
    issued_.insert(id);
  }
  out.annotations[contract::kClaimAnnotation] = out.claim_id;
  if (!request.dry_run)
    out.annotations[contract::kClaimSignatureAnnotation] = absl::StrCat("sig-", out.claim_id);
  return out;
}

absl::Status FakeClaimer::Release(const std::string& claim_id, const std::string& signature,
                                  absl::Time) {
  absl::MutexLock lock(&mu_);
  if (signature != absl::StrCat("sig-", claim_id) || issued_.erase(claim_id) == 0) {
    return absl::NotFoundError(absl::StrCat("the scheduler no longer holds claim ", claim_id));
  }
  released_.push_back(claim_id);
  return absl::OkStatus();
}

std::vector<std::string> FakeClaimer::released() const {
  absl::MutexLock lock(&mu_);
  return released_;
}

void FakeClaimer::SetError(absl::Status status) {
  absl::MutexLock lock(&mu_);
  error_ = std::move(status);
}

std::vector<ClaimRequest> FakeClaimer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeClaimer::calls() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(requests_.size());
}

std::vector<absl::Time> FakeClaimer::deadlines() const {
  absl::MutexLock lock(&mu_);
  return deadlines_;
}

}  // namespace labkube::injector::testing
