#include "services/scheduler/availability.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace labkube::scheduler {
namespace {

std::string Signature(const AvailabilityList& list) {
  std::string s;
  for (const TypeAvailability& a : list) {
    const TypeStatus& t = a.status;
    absl::StrAppend(&s, a.group, "/", a.type.name, ":", a.type.cpu, ",", a.type.memory, ",",
                    a.type.gpu.count, a.type.gpu.product, a.type.gpu.family, a.type.gpu.machine,
                    ":", t.maximum, ",", t.reserved, ",", t.used, ",", t.waiting, ",", t.fits,
                    ":", absl::StrJoin(t.nodes, ","), ":", absl::StrJoin(t.ready_nodes, ","), ":",
                    absl::StrJoin(a.gpu_products, ","), ";");
  }
  return s;
}

std::vector<std::string> GpuProducts(const PlannerInput& input, const TypeStatus& ts) {
  std::set<std::string> products;
  for (const std::string& name : ts.nodes) {
    auto node = input.nodes.find(name);
    if (node == input.nodes.end()) continue;
    auto label = node->second.labels.find("nvidia.com/gpu.product");
    if (label != node->second.labels.end() && !label->second.empty()) products.insert(label->second);
  }
  return {products.begin(), products.end()};
}

}  // namespace

AvailabilityList BuildAvailability(const PlannerInput& input, const Plan& plan) {
  AvailabilityList list;
  for (const GroupStatus& gs : plan.groups) {
    const MachineGroup* g = nullptr;
    for (const MachineGroup& candidate : input.groups) {
      if (candidate.machine_name == gs.machine_name) g = &candidate;
    }
    if (g == nullptr) continue;
    for (const TypeStatus& ts : gs.types) {
      const MachineType* t = g->FindType(ts.type);
      if (t != nullptr) list.push_back({g->group, *t, ts, GpuProducts(input, ts)});
    }
  }
  return list;
}

void AvailabilityBoard::Publish(AvailabilityList list) {
  std::string signature = Signature(list);
  absl::MutexLock lock(&mu_);
  if (signature == signature_ && version_ > 0) return;
  signature_ = std::move(signature);
  list_ = std::make_shared<const AvailabilityList>(std::move(list));
  ++version_;
}

std::pair<uint64_t, std::shared_ptr<const AvailabilityList>> AvailabilityBoard::Current() {
  absl::MutexLock lock(&mu_);
  return {version_, list_};
}

uint64_t AvailabilityBoard::WaitNewer(uint64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ != seen || closed_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return version_;
}

void AvailabilityBoard::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool AvailabilityBoard::closed() {
  absl::MutexLock lock(&mu_);
  return closed_;
}

}  // namespace labkube::scheduler
