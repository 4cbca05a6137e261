#include "services/scheduler/queue.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>
#include <tuple>

namespace labkube::scheduler {
namespace {

int32_t PriorityOf(const MachineGroup& g, const std::string& ns) {
  auto it = g.queue_priority.find(ns);
  return it == g.queue_priority.end() ? 0 : it->second;
}

bool AtCap(const MachineGroup& g, const MachineType& t, const std::string& ns,
           const std::map<std::string, int32_t>& of_type,
           const std::map<std::string, int32_t>& in_group) {
  auto held = [&ns](const std::map<std::string, int32_t>& m) {
    auto it = m.find(ns);
    return it == m.end() ? 0 : it->second;
  };
  return (t.max_per_member > 0 && held(of_type) >= t.max_per_member) ||
         (g.max_per_member > 0 && held(in_group) >= g.max_per_member);
}

}  // namespace

// Each namespace's pods in arrival order; a heap of namespaces by (priority, held, arrival of
// their next pod, name): O(n log n) for n waiting pods.
QueueOrder OrderQueue(const MachineGroup& group, const MachineType& type,
                      std::vector<const WaitingPod*> waiting,
                      std::map<std::string, int32_t> held_of_type,
                      std::map<std::string, int32_t> held_in_group) {
  auto arrival = [](const WaitingPod* a, const WaitingPod* b) {
    return std::tie(a->created, a->ns, a->name) < std::tie(b->created, b->ns, b->name);
  };
  std::sort(waiting.begin(), waiting.end(), arrival);
  std::map<std::string, std::vector<const WaitingPod*>> by_ns;
  for (const WaitingPod* p : waiting) by_ns[p->ns].push_back(p);
  std::map<std::string, size_t> next;  // namespace -> index of its next pod
  using Key = std::tuple<int32_t, int32_t, absl::Time, std::string>;
  auto key = [&](const std::string& ns) {
    return Key{-PriorityOf(group, ns), held_of_type[ns], by_ns[ns][next[ns]]->created, ns};
  };
  std::set<Key> heap;
  for (const auto& [ns, pods] : by_ns) {
    next[ns] = 0;
    if (!AtCap(group, type, ns, held_of_type, held_in_group)) heap.insert(key(ns));
  }
  QueueOrder out;
  out.pods.reserve(waiting.size());
  std::set<const WaitingPod*> taken;
  while (!heap.empty()) {
    std::string ns = std::get<3>(*heap.begin());
    heap.erase(heap.begin());
    const WaitingPod* p = by_ns[ns][next[ns]++];
    out.pods.push_back(p);
    taken.insert(p);
    ++held_of_type[ns];
    ++held_in_group[ns];
    if (next[ns] < by_ns[ns].size() && !AtCap(group, type, ns, held_of_type, held_in_group)) {
      heap.insert(key(ns));
    }
  }
  out.eligible = out.pods.size();
  for (const WaitingPod* p : waiting) {  // at a cap: they wait for one of their own slots
    if (taken.count(p) == 0) out.pods.push_back(p);
  }
  return out;
}

std::vector<absl::Time> LatestStarts(std::vector<absl::Time> busy_until, absl::Duration run,
                                     size_t n) {
  std::vector<absl::Time> out;
  if (busy_until.empty()) return out;
  std::priority_queue<absl::Time, std::vector<absl::Time>, std::greater<>> free_at(
      busy_until.begin(), busy_until.end());
  out.reserve(n);
  while (out.size() < n) {
    absl::Time t = free_at.top();
    free_at.pop();
    out.push_back(t);
    free_at.push(t + run);
  }
  return out;
}

}  // namespace labkube::scheduler
