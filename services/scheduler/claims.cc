#include "services/scheduler/claims.h"

#include <algorithm>
#include <utility>

namespace labkube::scheduler {

const ClaimRecord* ClaimTable::FindByAdmissionUid(const std::string& admission_uid) const {
  auto it = by_admission_.find(admission_uid);
  if (it == by_admission_.end()) return nullptr;
  auto claim = claims_.find(it->second);
  return claim == claims_.end() ? nullptr : &claim->second;
}

const ClaimRecord* ClaimTable::Find(const std::string& claim_id) const {
  auto it = claims_.find(claim_id);
  return it == claims_.end() ? nullptr : &it->second;
}

bool ClaimTable::IsReservationClaimed(const std::string& reservation_uid) const {
  return claimed_reservations_.count(reservation_uid) > 0;
}

const ClaimRecord& ClaimTable::Add(ClaimRecord record, absl::Time now) {
  record.expires = now + ttl_;
  if (!record.admission_uid.empty()) by_admission_[record.admission_uid] = record.id;
  if (!record.reservation_uid.empty()) claimed_reservations_.insert(record.reservation_uid);
  std::string id = record.id;
  return claims_[id] = std::move(record);
}

bool ClaimTable::Bind(const std::string& claim_id) {
  auto it = claims_.find(claim_id);
  if (it == claims_.end()) return false;
  Remove(claim_id);
  return true;
}

void ClaimTable::Remove(const std::string& claim_id) {
  auto it = claims_.find(claim_id);
  if (it == claims_.end()) return;
  by_admission_.erase(it->second.admission_uid);
  claimed_reservations_.erase(it->second.reservation_uid);
  claims_.erase(it);
}

std::vector<ClaimRecord> ClaimTable::Expire(absl::Time now) {
  std::vector<ClaimRecord> expired;
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (it->second.expires <= now) {
      by_admission_.erase(it->second.admission_uid);
      claimed_reservations_.erase(it->second.reservation_uid);
      expired.push_back(std::move(it->second));
      it = claims_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

std::vector<LiveClaim> ClaimTable::Live() const {
  std::vector<LiveClaim> live;
  for (const auto& [id, c] : claims_) live.push_back({c.id, c.group, c.type, c.node, c.ns, c.pod_name});
  return live;
}

void ClaimTable::RecordRefusal(const std::string& group, const std::string& type,
                               const std::string& who, absl::Time now) {
  auto& of_type = refusals_[TypeKey(group, type)];
  auto [it, added] = of_type.insert_or_assign(who, now);
  if (!added) return;
  if (++refusal_count_ <= kMaxRefusals) return;
  auto oldest = std::min_element(of_type.begin(), of_type.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  of_type.erase(oldest);
  --refusal_count_;
}

void ClaimTable::ClearRefusal(const std::string& group, const std::string& type,
                              const std::string& who) {
  auto it = refusals_.find(TypeKey(group, type));
  if (it != refusals_.end()) refusal_count_ -= it->second.erase(who);
}

std::map<std::string, int32_t> ClaimTable::RecentRefusals(absl::Time now) {
  std::map<std::string, int32_t> counts;
  for (auto it = refusals_.begin(); it != refusals_.end();) {
    auto& who = it->second;
    for (auto w = who.begin(); w != who.end();) {
      if (now - w->second > refusal_window_) {
        w = who.erase(w);
        --refusal_count_;
      } else {
        ++w;
      }
    }
    if (who.empty()) {
      it = refusals_.erase(it);
    } else {
      counts[it->first] = static_cast<int32_t>(who.size());
      ++it;
    }
  }
  return counts;
}

}  // namespace labkube::scheduler
