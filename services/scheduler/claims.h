// ClaimTable: the claims the scheduler has handed out whose guest pod it has not seen yet, plus
// recent refusals (guests that asked when no slot was free, counted as "waiting").
//
// A claim holds its slot from the moment it is answered until the guest pod carrying its id
// appears (Bind) or its TTL passes (Expire): then the slot is re-locked by a reservation pod.
// Lookups by admission uid make Claim idempotent when the API server retries a review.
// Time is passed in (`now`) so the owner's clock governs. Not thread-safe: the owner
// (SchedulerState) guards it with its mutex.
#ifndef LABKUBE_SERVICES_SCHEDULER_CLAIMS_H_
#define LABKUBE_SERVICES_SCHEDULER_CLAIMS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/scheduler/planner.h"

namespace labkube::scheduler {

struct ClaimRecord {
  std::string id;
  std::string admission_uid;
  std::string group;
  std::string type;
  std::string node;
  std::string ns;
  std::string pod_name;  // or generateName + "*"
  std::string reservation_pod;
  std::string reservation_uid;
  absl::Time expires;
  std::string signature;  // ClaimSigner::Sign of this claim (claim_signer.h)
};

class ClaimTable {
 public:
  explicit ClaimTable(absl::Duration ttl, absl::Duration refusal_window = absl::Seconds(60))
      : ttl_(ttl), refusal_window_(refusal_window) {}

  // The live claim made for this admission request, if any.
  const ClaimRecord* FindByAdmissionUid(const std::string& admission_uid) const;
  // The live claim with this id, if any.
  const ClaimRecord* Find(const std::string& claim_id) const;
  bool IsReservationClaimed(const std::string& reservation_uid) const;
  const std::set<std::string>& ClaimedReservations() const { return claimed_reservations_; }

  // Records a new claim; sets its expiry to now + ttl.
  const ClaimRecord& Add(ClaimRecord record, absl::Time now);
  // The guest pod with this claim id exists: the claim is done (true if it was live).
  bool Bind(const std::string& claim_id);
  // Drops a claim whose handover failed.
  void Remove(const std::string& claim_id);
  // Removes and returns the claims whose TTL has passed.
  std::vector<ClaimRecord> Expire(absl::Time now);
  std::vector<LiveClaim> Live() const;
  size_t size() const { return claims_.size(); }

  // A guest (identified by namespace + name or generateName) was refused a slot of group/type.
  void RecordRefusal(const std::string& group, const std::string& type, const std::string& who,
                     absl::Time now);
  // The guest got a slot after all: it no longer waits.
  void ClearRefusal(const std::string& group, const std::string& type, const std::string& who);
  // group/type -> distinct guests refused within the refusal window.
  std::map<std::string, int32_t> RecentRefusals(absl::Time now);

 private:
  absl::Duration ttl_;
  absl::Duration refusal_window_;
  std::map<std::string, ClaimRecord> claims_;     // by claim id
  std::map<std::string, std::string> by_admission_;  // admission uid -> claim id
  std::set<std::string> claimed_reservations_;       // reservation pod uids
  std::map<std::string, std::map<std::string, absl::Time>> refusals_;  // type key -> who -> when
  size_t refusal_count_ = 0;  // entries in refusals_, bounded by kMaxRefusals
};

// Refusals are keyed by what callers name: at most this many are remembered (the oldest of a
// type goes first), so a flood of made-up pod names cannot grow the scheduler's memory.
inline constexpr size_t kMaxRefusals = 10000;

}  // namespace labkube::scheduler

#endif  // LABKUBE_SERVICES_SCHEDULER_CLAIMS_H_
