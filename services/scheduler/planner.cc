#include "services/scheduler/planner.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/scheduler/queue.h"

namespace labkube::scheduler {
namespace {

// Planning state of one group.
struct GroupPlan {
  const MachineGroup* group = nullptr;
  GroupStatus status;
  std::map<std::string, Resources> room;                    // ready nodes owned by the group
  std::map<std::string, std::set<std::string>> serves;      // node -> machine types
  std::map<std::string, int32_t> used;                      // type -> guests + claims
  std::map<std::string, int32_t> waiting;                   // type -> waiting guests
  std::map<std::string, std::vector<const SlotPod*>> reservations;  // type -> pods
  std::map<std::string, std::vector<const WaitingPod*>> queued;     // type -> waiting pods
  // namespace -> slots held, per type and in the whole group (for the queue's order and caps).
  std::map<std::string, std::map<std::string, int32_t>> held_of_type;
  std::map<std::string, int32_t> held_in_group;
  std::map<std::string, std::vector<absl::Time>> busy_until;  // type -> per occupied slot
};

// When the slot held by a guest (started at `started`, InfinitePast: not yet) or a claim frees
// at the latest.
absl::Time BusyUntil(const PlannerInput& in, const MachineType& t, absl::Time started) {
  if (started == absl::InfinitePast()) return in.now + t.max_runtime + kRuntimeGrace;
  return std::max(started + t.max_runtime + kRuntimeGrace, in.now);  // past it: ended now
}

NodeCondition ConditionOf(const PoolNode& entry, const std::map<std::string, NodeInfo>& nodes,
                          std::string* message) {
  if (entry.mode == PoolMode::kMaintenance) return NodeCondition::kMaintenance;
  auto it = nodes.find(entry.node);
  if (it == nodes.end()) {
    *message = "node does not exist";
    return NodeCondition::kNotReady;
  }
  if (!it->second.ready) {
    *message = "node is not ready";
    return NodeCondition::kNotReady;
  }
  if (it->second.unschedulable) {
    *message = "node is cordoned (unschedulable)";
    return NodeCondition::kNotReady;
  }
  return NodeCondition::kReady;
}

std::vector<std::string> TypeNames(const MachineGroup& g) {
  std::vector<std::string> names;
  for (const MachineType& t : g.types) names.push_back(t.name);
  return names;
}

// Fills pool status, room and serves; records problems for shared nodes and unknown types.
void PlanPool(const PlannerInput& in, std::map<std::string, std::string>& owner, GroupPlan& gp) {
  const MachineGroup& g = *gp.group;
  for (const PoolNode& entry : g.pool) {
    auto [it, inserted] = owner.emplace(entry.node, g.group);
    if (!inserted && it->second != g.group) {
      gp.status.problems.push_back(absl::StrCat("node ", entry.node, " is already in machine group ",
                                                it->second, "; a node serves one group only"));
      continue;
    }
    PoolNodeStatus ps{entry.node, entry.mode, NodeCondition::kNotReady, ""};
    ps.condition = ConditionOf(entry, in.nodes, &ps.message);
    for (const std::string& t : entry.machine_types) {
      if (g.FindType(t) == nullptr) {
        gp.status.problems.push_back(absl::StrCat(
            "nodePool entry ", entry.node, " names machine type ", t,
            ", which machineTypes does not declare (declared: ",
            absl::StrJoin(TypeNames(g), ", "), ")"));
        continue;
      }
      gp.serves[entry.node].insert(t);
    }
    if (ps.condition == NodeCondition::kReady) {
      const NodeInfo& n = in.nodes.at(entry.node);
      Resources room = n.allocatable;
      // A node that states no pod count sets no limit on it.
      room.extended.try_emplace(kPodsResource, std::numeric_limits<int32_t>::max());
      room -= n.used_by_others;
      gp.room[entry.node] = room;
    }
    gp.status.pool.push_back(ps);
  }
}

// Guests and live claims take their room and count as used; reservation pods are collected.
void PlanHolders(const PlannerInput& in, GroupPlan& gp, Plan& plan) {
  const MachineGroup& g = *gp.group;
  auto take = [&](const std::string& node, const MachineType& t) {
    auto it = gp.room.find(node);
    if (it != gp.room.end()) it->second -= PodSlot(t.resources);
  };
  for (const SlotPod& p : in.pods) {
    if (p.group != g.group) continue;
    const MachineType* t = g.FindType(p.type);
    if (p.role == SlotRole::kGuest) {
      if (t == nullptr || p.finished) continue;
      take(p.node, *t);
      ++gp.used[t->name];
      ++gp.held_of_type[t->name][p.ns];
      ++gp.held_in_group[p.ns];
      gp.busy_until[t->name].push_back(BusyUntil(in, *t, p.started));
      if (!p.running && !p.terminating) ++gp.waiting[t->name];
    } else if (t == nullptr) {
      plan.remove.push_back({p.name, p.uid, "machine type no longer declared"});
    } else if (!p.terminating) {
      gp.reservations[t->name].push_back(&p);
    }
  }
  for (const LiveClaim& c : in.claims) {
    const MachineType* t = c.group == g.group ? g.FindType(c.type) : nullptr;
    if (t == nullptr) continue;
    take(c.node, *t);
    ++gp.used[t->name];
    gp.busy_until[t->name].push_back(BusyUntil(in, *t, absl::InfinitePast()));
    if (!c.ns.empty()) {
      ++gp.held_of_type[t->name][c.ns];
      ++gp.held_in_group[c.ns];
    }
  }
  for (const WaitingPod& w : in.waiting) {
    if (w.group == g.group && g.FindType(w.type) != nullptr) gp.queued[w.type].push_back(&w);
  }
}

// Larger types first so that they are not crowded out by small ones.
std::vector<const MachineType*> PackingOrder(const MachineGroup& g) {
  std::vector<const MachineType*> order;
  for (const MachineType& t : g.types) order.push_back(&t);
  auto weight = [](const MachineType* t) {
    return std::make_tuple(-t->gpu.count, -t->resources.cpu_milli, -t->resources.memory_bytes,
                           t->name);
  };
  std::sort(order.begin(), order.end(),
            [&](const MachineType* a, const MachineType* b) { return weight(a) < weight(b); });
  return order;
}

bool Serves(const GroupPlan& gp, const std::string& node, const std::string& type) {
  auto it = gp.serves.find(node);
  return it != gp.serves.end() && it->second.count(type) > 0;
}

// Leftover room after placing `t` on a node: smaller is a better fit.
std::tuple<int64_t, int64_t, int64_t> Leftover(const Resources& room, const MachineType& t) {
  int64_t gpus = 0;
  for (const auto& [name, count] : room.extended) gpus += count;
  return {gpus - t.gpu.count, room.cpu_milli - t.resources.cpu_milli,
          room.memory_bytes - t.resources.memory_bytes};
}

const std::string* BestFitNode(GroupPlan& gp, const MachineType& t) {
  const std::string* best = nullptr;
  std::tuple<int64_t, int64_t, int64_t> best_left;
  for (auto& [node, room] : gp.room) {
    if (!Serves(gp, node, t.name) || !room.Covers(PodSlot(t.resources))) continue;
    auto left = Leftover(room, t);
    if (best == nullptr || left < best_left) best = &node, best_left = left;
  }
  return best;
}

// Keeps the existing reservation pods that still have a place, then creates the missing ones.
void PlaceType(const PlannerInput& in, const MachineType& t, GroupPlan& gp, Plan& plan) {
  int32_t used = gp.used[t.name];
  int32_t want = std::max(0, t.available - used);
  std::vector<const SlotPod*>& pods = gp.reservations[t.name];
  std::stable_sort(pods.begin(), pods.end(), [](const SlotPod* a, const SlotPod* b) {
    return std::make_tuple(!a->running, a->created, a->name) <
           std::make_tuple(!b->running, b->created, b->name);
  });
  int32_t kept = 0, reserved = 0;
  std::vector<const SlotPod*> free;  // kept and running: claimable now
  const Resources need = PodSlot(t.resources);
  for (const SlotPod* p : pods) {
    auto room = gp.room.find(p->node);
    bool placeable =
        room != gp.room.end() && Serves(gp, p->node, t.name) && room->second.Covers(need);
    if (kept < want && placeable) {
      room->second -= need;
      ++kept;
      reserved += p->running ? 1 : 0;
      if (p->running) free.push_back(p);
    } else {
      plan.remove.push_back(
          {p->name, p->uid, placeable ? "more reservations than free slots" : "node unavailable"});
    }
  }
  QueueOrder queue = OrderQueue(*gp.group, t, gp.queued[t.name], gp.held_of_type[t.name],
                                gp.held_in_group);
  size_t handed = 0;
  auto hand = [&](const std::string& node, PodRef reservation) {
    const WaitingPod& w = *queue.pods[handed++];
    plan.handover.push_back({w, gp.group->group, t.name, node, std::move(reservation)});
    ++gp.held_in_group[w.ns];
  };
  for (const SlotPod* p : free) {
    if (handed >= queue.eligible) break;
    hand(p->node, {p->name, p->uid, "handed to a waiting guest"});
  }
  int32_t from_reservations = static_cast<int32_t>(handed);
  int32_t created = 0;
  while (kept + created < want) {
    const std::string* node = BestFitNode(gp, t);
    if (node == nullptr) break;
    gp.room[*node] -= need;
    if (handed < queue.eligible) {
      hand(*node, {});
    } else {
      plan.create.push_back({gp.group->group, t.name, *node});
    }
    ++created;
  }
  TypeStatus& ts = gp.status.types.emplace_back();
  ts.type = t.name;
  ts.maximum = t.available;
  ts.used = used + static_cast<int32_t>(handed);
  ts.reserved = reserved - from_reservations;
  ts.fits = std::min(t.available, used + kept + created);
  ts.queue.reserve(queue.pods.size() - handed);
  for (size_t i = handed; i < queue.pods.size(); ++i) ts.queue.push_back(*queue.pods[i]);
  if (t.max_runtime > absl::ZeroDuration() && queue.eligible > handed) {
    std::vector<absl::Time> busy = gp.busy_until[t.name];
    for (size_t i = 0; i < handed; ++i) busy.push_back(in.now + t.max_runtime + kRuntimeGrace);
    // Slots that exist but are neither held nor handed (being re-locked, or free) free now.
    while (busy.size() < static_cast<size_t>(std::max(0, ts.fits))) busy.push_back(in.now);
    ts.latest_start = LatestStarts(std::move(busy), t.max_runtime + kRuntimeGrace,
                                   queue.eligible - handed);
  }
}

void FillTypeDetails(const PlannerInput& in, GroupPlan& gp) {
  const MachineGroup& g = *gp.group;
  std::vector<TypeStatus> ordered;
  for (const MachineType& t : g.types) {
    for (TypeStatus& ts : gp.status.types) {
      if (ts.type != t.name) continue;
      ts.waiting = gp.waiting[t.name] + static_cast<int32_t>(ts.queue.size());
      auto r = in.refused.find(TypeKey(g.group, t.name));
      if (r != in.refused.end()) ts.waiting += r->second;
      bool fits_somewhere = false;
      for (const PoolNodeStatus& ps : gp.status.pool) {
        if (!Serves(gp, ps.node, t.name)) continue;
        ts.nodes.push_back(ps.node);
        if (ps.condition == NodeCondition::kReady) ts.ready_nodes.push_back(ps.node);
        auto n = in.nodes.find(ps.node);
        if (n != in.nodes.end() && n->second.allocatable.Covers(t.resources)) fits_somewhere = true;
      }
      if (ts.nodes.empty()) {
        gp.status.problems.push_back(
            absl::StrCat("machine type ", t.name, " is served by no nodePool entry"));
      } else if (!fits_somewhere && t.available > 0) {
        gp.status.problems.push_back(absl::StrCat("machine type ", t.name,
                                                  " fits on none of its nodes (",
                                                  absl::StrJoin(ts.nodes, ", "), ")"));
      }
      ordered.push_back(std::move(ts));
    }
  }
  gp.status.types = std::move(ordered);
}

}  // namespace

std::string TypeKey(const std::string& group, const std::string& type) {
  return absl::StrCat(group, "/", type);
}

Plan ComputePlan(const PlannerInput& in) {
  Plan plan;
  std::vector<const MachineGroup*> groups;
  for (const MachineGroup& g : in.groups) {
    if (!g.deleting) groups.push_back(&g);
  }
  std::sort(groups.begin(), groups.end(), [](const MachineGroup* a, const MachineGroup* b) {
    return a->machine_name < b->machine_name;
  });
  for (const MachineGroup* g : groups) {
    GroupPlan gp;
    gp.group = g;
    gp.status.machine_name = g->machine_name;
    gp.status.group = g->group;
    PlanPool(in, plan.node_owner, gp);
    PlanHolders(in, gp, plan);
    for (const MachineType* t : PackingOrder(*g)) PlaceType(in, *t, gp, plan);
    FillTypeDetails(in, gp);
    plan.groups.push_back(std::move(gp.status));
  }
  // Reservation pods of groups that no longer exist (or are being deleted) go.
  std::set<std::string> live;
  for (const MachineGroup* g : groups) live.insert(g->group);
  for (const SlotPod& p : in.pods) {
    if (p.role == SlotRole::kReservation && !p.terminating && live.count(p.group) == 0) {
      plan.remove.push_back({p.name, p.uid, "machine group deleted"});
    }
  }
  return plan;
}

}  // namespace labkube::scheduler
