#include "services/scheduler/model.h"

#include <limits>

namespace labkube::scheduler {
namespace {

// a - b held at the int64 limits (see SaturatingAdd).
int64_t Sub(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_sub_overflow(a, b, &out)) return out;
  return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace

// Two containers asking for 7Ei of memory each must read as "too much", never as a negative
// amount.
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

bool Resources::Covers(const Resources& need) const {
  if (need.cpu_milli > cpu_milli || need.memory_bytes > memory_bytes) return false;
  for (const auto& [name, count] : need.extended) {
    if (count <= 0) continue;
    auto it = extended.find(name);
    if (it == extended.end() || it->second < count) return false;
  }
  return true;
}

Resources& Resources::operator+=(const Resources& other) {
  cpu_milli = SaturatingAdd(cpu_milli, other.cpu_milli);
  memory_bytes = SaturatingAdd(memory_bytes, other.memory_bytes);
  for (const auto& [name, count] : other.extended) {
    extended[name] = SaturatingAdd(extended[name], count);
  }
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  cpu_milli = Sub(cpu_milli, other.cpu_milli);
  memory_bytes = Sub(memory_bytes, other.memory_bytes);
  for (const auto& [name, count] : other.extended) extended[name] = Sub(extended[name], count);
  return *this;
}

Resources PodSlot(const Resources& r) {
  Resources out = r;
  out.extended[kPodsResource] = SaturatingAdd(out.extended[kPodsResource], 1);
  return out;
}

const MachineType* MachineGroup::FindType(const std::string& name) const {
  for (const MachineType& t : types) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const char* NodeConditionName(NodeCondition c) {
  switch (c) {
    case NodeCondition::kReady:
      return "Ready";
    case NodeCondition::kNotReady:
      return "NotReady";
    case NodeCondition::kMaintenance:
      return "Maintenance";
  }
  return "Unknown";
}

const char* NodePoolLabelValue(NodeCondition c) {
  switch (c) {
    case NodeCondition::kReady:
      return "ready";
    case NodeCondition::kNotReady:
      return "not-ready";
    case NodeCondition::kMaintenance:
      return "maintenance";
  }
  return "not-ready";
}

}  // namespace labkube::scheduler
