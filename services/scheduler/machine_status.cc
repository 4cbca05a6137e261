#include "services/scheduler/machine_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/kube/json.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void Strings(Writer& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const std::string& v : values) w.String(v.c_str());
  w.EndArray();
}

void AvailableMachines(Writer& w, const GroupStatus& g) {
  w.Key("availableMachines");
  w.StartArray();
  for (const TypeStatus& t : g.types) {
    w.StartObject();
    Str(w, "name", t.type);
    w.Key("fits"), w.Int(t.fits);
    Strings(w, "nodes", t.nodes);
    w.Key("usage");
    w.StartObject();
    w.Key("maximum"), w.Int(t.maximum);
    w.Key("reserved"), w.Int(t.reserved);
    w.Key("used"), w.Int(t.used);
    w.Key("waiting"), w.Int(t.waiting);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

void NodePool(Writer& w, const GroupStatus& g) {
  w.Key("nodePool");
  w.StartArray();
  for (const PoolNodeStatus& n : g.pool) {
    w.StartObject();
    Str(w, "name", n.node);
    Str(w, "mode", n.mode == PoolMode::kMaintenance ? "maintenance" : "ready");
    Str(w, "condition", NodeConditionName(n.condition));
    if (!n.message.empty()) Str(w, "message", n.message);
    w.EndObject();
  }
  w.EndArray();
}

// The lastTransitionTime of the current Ready condition if its status is `status`.
std::string KeptTransitionTime(const rapidjson::Value& machine, const std::string& status) {
  const rapidjson::Value* conditions = json::Find(machine, {"status", "conditions"});
  if (conditions == nullptr || !conditions->IsArray()) return "";
  for (const auto& c : conditions->GetArray()) {
    if (json::GetString(c, {"type"}) == "Ready" && json::GetString(c, {"status"}) == status) {
      return std::string(json::GetString(c, {"lastTransitionTime"}));
    }
  }
  return "";
}

void Conditions(Writer& w, const rapidjson::Value& machine, const std::vector<std::string>& problems,
                absl::Time now) {
  std::string status = problems.empty() ? "True" : "False";
  std::string since = KeptTransitionTime(machine, status);
  if (since.empty()) since = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
  w.Key("conditions");
  w.StartArray();
  w.StartObject();
  Str(w, "type", "Ready");
  Str(w, "status", status);
  Str(w, "reason", problems.empty() ? "Reconciled" : "InvalidSpec");
  Str(w, "message", problems.empty() ? "all machine types are managed" : absl::StrJoin(problems, "; "));
  Str(w, "lastTransitionTime", since);
  w.Key("observedGeneration"), w.Int64(json::GetInt(machine, {"metadata", "generation"}));
  w.EndObject();
  w.EndArray();
}

}  // namespace

std::string MachineStatusPatch(const rapidjson::Value& machine, const GroupStatus* group,
                               const std::vector<std::string>& problems, absl::Time now) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("status");
  w.StartObject();
  w.Key("observedGeneration"), w.Int64(json::GetInt(machine, {"metadata", "generation"}));
  int32_t reserved = 0, maximum = 0, waiting = 0;
  if (group != nullptr) {
    AvailableMachines(w, *group);
    NodePool(w, *group);
    for (const TypeStatus& t : group->types) {
      reserved += t.reserved, maximum += t.maximum, waiting += t.waiting;
    }
  }
  Str(w, "summary", absl::StrCat(reserved, "/", maximum, " free"));
  w.Key("waiting"), w.Int(waiting);
  Conditions(w, machine, problems, now);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace labkube::scheduler
