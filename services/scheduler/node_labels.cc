#include "services/scheduler/node_labels.h"

#include "absl/strings/str_cat.h"
#include "lib/contract.h"
#include "lib/kube/json.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::scheduler {
namespace {

namespace json = kube::json;

// labkube.io/ keys are the scheduler's, except the admin's system-node mark.
bool Ours(std::string_view key) {
  return key.starts_with(kLabelPrefix) && key != contract::kSystemNodeLabel;
}

std::map<std::string, std::string> OurKeys(const rapidjson::Value& node, std::string_view field) {
  std::map<std::string, std::string> out;
  const rapidjson::Value* m = json::Find(node, {"metadata", field});
  if (m == nullptr || !m->IsObject()) return out;
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    std::string_view key = json::View(it->name);
    if (Ours(key) && it->value.IsString()) out[std::string(key)] = json::View(it->value);
  }
  return out;
}

// All taints of the node, split into labkube's and the others (kept verbatim).
std::vector<Taint> OurTaints(const rapidjson::Value& node) {
  std::vector<Taint> out;
  const rapidjson::Value* taints = json::Find(node, {"spec", "taints"});
  if (taints == nullptr || !taints->IsArray()) return out;
  for (const auto& t : taints->GetArray()) {
    std::string key(json::GetString(t, {"key"}));
    if (!Ours(key)) continue;
    out.push_back({key, std::string(json::GetString(t, {"value"})),
                   std::string(json::GetString(t, {"effect"}))});
  }
  return out;
}

void WriteMapPatch(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* field,
                   const std::map<std::string, std::string>& have,
                   const std::map<std::string, std::string>& want) {
  w.Key(field);
  w.StartObject();
  for (const auto& [k, v] : have) {
    if (want.count(k) == 0) w.Key(k.c_str()), w.Null();
  }
  for (const auto& [k, v] : want) w.Key(k.c_str()), w.String(v.c_str());
  w.EndObject();
}

void WriteTaints(rapidjson::Writer<rapidjson::StringBuffer>& w, const rapidjson::Value& node,
                 const std::vector<Taint>& want) {
  w.Key("spec");
  w.StartObject();
  w.Key("taints");
  w.StartArray();
  const rapidjson::Value* taints = json::Find(node, {"spec", "taints"});
  if (taints != nullptr && taints->IsArray()) {
    for (const auto& t : taints->GetArray()) {
      if (!Ours(json::GetString(t, {"key"}))) t.Accept(w);
    }
  }
  for (const Taint& t : want) {
    w.StartObject();
    w.Key("key"), w.String(t.key.c_str());
    w.Key("value"), w.String(t.value.c_str());
    w.Key("effect"), w.String(t.effect.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::map<std::string, NodeMarks> DesiredMarks(const std::vector<MachineGroup>& groups,
                                              const Plan& plan) {
  std::map<std::string, NodeMarks> out;
  for (const GroupStatus& gs : plan.groups) {
    const MachineGroup* g = nullptr;
    for (const MachineGroup& candidate : groups) {
      if (candidate.machine_name == gs.machine_name) g = &candidate;
    }
    if (g == nullptr) continue;
    for (const PoolNodeStatus& ps : gs.pool) {
      NodeMarks& m = out[ps.node];
      m.labels[kNodePoolLabel] = NodePoolLabelValue(ps.condition);
      m.annotations[kGroupLabel] = g->group;  // the group label's key, as a node annotation
      for (const PoolNode& entry : g->pool) {
        if (entry.node != ps.node) continue;
        for (const std::string& t : entry.machine_types) {
          if (g->FindType(t) == nullptr) continue;
          std::string key = absl::StrCat(kLabelPrefix, t);
          m.labels[key] = g->group;
          if (entry.taint) m.taints.push_back({key, g->group, "NoSchedule"});
        }
      }
    }
  }
  return out;
}

std::optional<std::string> NodeMarksPatch(const rapidjson::Value& node, const NodeMarks& want) {
  auto labels = OurKeys(node, "labels");
  auto annotations = OurKeys(node, "annotations");
  auto taints = OurTaints(node);
  if (labels == want.labels && annotations == want.annotations && taints == want.taints) {
    return std::nullopt;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("metadata");
  w.StartObject();
  std::string rv(json::GetString(node, {"metadata", "resourceVersion"}));
  if (!rv.empty()) w.Key("resourceVersion"), w.String(rv.c_str());
  WriteMapPatch(w, "labels", labels, want.labels);
  WriteMapPatch(w, "annotations", annotations, want.annotations);
  w.EndObject();
  if (taints != want.taints) WriteTaints(w, node, want.taints);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool HasMarks(const rapidjson::Value& node) {
  return !OurKeys(node, "labels").empty() || !OurKeys(node, "annotations").empty() ||
         !OurTaints(node).empty();
}

}  // namespace labkube::scheduler
