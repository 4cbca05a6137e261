#include "services/scheduler/claim_handler.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/resource.h"

namespace labkube::scheduler {

absl::StatusOr<ClaimDecision> ClaimHandler::Claim(const ClaimQuery& query) {
  constexpr int kAttempts = 3;
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    absl::StatusOr<ClaimDecision> d = state_.Reserve(query);
    if (!d.ok() || query.dry_run || d->replayed || d->queued) return d;
    if (!leading_()) {  // the fence: no write from a replica that may have lost its lease
      state_.AbandonClaim(d->record.id);
      return absl::UnavailableError(
          "this scheduler replica lost its lease while claiming; retry (the new leader answers)");
    }
    kube::DeleteOptions opts;
    opts.grace_period_seconds = 0;
    opts.precondition_uid = d->record.reservation_uid;
    last = client_.Delete(kube::resources::Pods(), reservation_ns_, d->record.reservation_pod, opts);
    if (last.ok() || absl::IsNotFound(last)) {
      state_.ExpectDelete(d->record.reservation_uid);
      return d;
    }
    state_.AbandonClaim(d->record.id);
    if (!absl::IsAborted(last) && !absl::IsFailedPrecondition(last)) break;
  }
  return absl::UnavailableError(absl::StrCat(
      "labkube could not hand over a reserved slot (", last.message(),
      "); try again in a few seconds"));
}

}  // namespace labkube::scheduler
