#include "services/scheduler/model.h"

namespace labkube::scheduler {

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
  cpu_milli += other.cpu_milli;
  memory_bytes += other.memory_bytes;
  for (const auto& [name, count] : other.extended) extended[name] += count;
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  cpu_milli -= other.cpu_milli;
  memory_bytes -= other.memory_bytes;
  for (const auto& [name, count] : other.extended) extended[name] -= count;
  return *this;
}

Resources PodSlot(const Resources& r) {
  Resources out = r;
  out.extended[kPodsResource] += 1;
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
