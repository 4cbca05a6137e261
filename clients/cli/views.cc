#include "clients/cli/views.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;

class Builder {
 public:
  explicit Builder(Allocator& a) : a_(a), v_(rapidjson::kObjectType) {}
  Builder& Str(const char* key, const std::string& value) {
    v_.AddMember(rapidjson::StringRef(key), json::String(value, a_), a_);
    return *this;
  }
  Builder& Int(const char* key, int64_t value) {
    v_.AddMember(rapidjson::StringRef(key), rapidjson::Value(static_cast<int64_t>(value)), a_);
    return *this;
  }
  Builder& Bool(const char* key, bool value) {
    v_.AddMember(rapidjson::StringRef(key), rapidjson::Value(value), a_);
    return *this;
  }
  Builder& Value(const char* key, rapidjson::Value value) {
    v_.AddMember(rapidjson::StringRef(key), value, a_);
    return *this;
  }
  rapidjson::Value Done() { return std::move(v_); }

 private:
  Allocator& a_;
  rapidjson::Value v_;
};

std::string Get(const rapidjson::Value& item, const char* key) {
  const rapidjson::Value* v = json::FindMember(item, key);
  return v == nullptr ? "" : CellText(*v);
}

std::string Dash(std::string s) { return s.empty() ? "-" : s; }

}  // namespace

std::string PhaseText(gw::Phase phase) {
  switch (phase) {
    case gw::PHASE_WAITING:
      return "waiting";
    case gw::PHASE_STARTING:
      return "starting";
    case gw::PHASE_RUNNING:
      return "running";
    case gw::PHASE_FAILED:
      return "failed";
    case gw::PHASE_STOPPING:
      return "stopping";
    case gw::PHASE_STOPPED:
      return "stopped";
    default:
      return "unknown";
  }
}

std::string KindText(gw::WorkspaceKind kind) {
  switch (kind) {
    case gw::WORKSPACE_KIND_JUPYTERLAB:
      return "jupyterlab";
    case gw::WORKSPACE_KIND_CODESERVER:
      return "codeserver";
    default:
      return "";
  }
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0) return "";
  return Rfc3339(absl::FromUnixSeconds(t.seconds()));
}

rapidjson::Value MachineView(const gw::MachineType& m, Allocator& a) {
  return Builder(a)
      .Str("group", m.group())
      .Str("name", m.name())
      .Str("cpu", m.cpu())
      .Str("memory", m.memory())
      .Str("gpu_model", m.gpu().model())
      .Int("gpu_count", m.gpu().count())
      .Str("gpu_resource", m.gpu().resource())
      .Str("gpu_family", m.gpu().family())
      .Str("gpu_machine", m.gpu().machine())
      .Int("maximum", m.maximum())
      .Int("reserved", m.reserved())
      .Int("used", m.used())
      .Int("waiting", m.waiting())
      .Int("fits", m.fits())
      .Int("free", m.free())
      .Done();
}

rapidjson::Value WorkspaceView(const gw::Workspace& w, Allocator& a) {
  rapidjson::Value volumes(rapidjson::kArrayType);
  for (const std::string& v : w.volumes()) volumes.PushBack(json::String(v, a), a);
  return Builder(a)
      .Str("name", w.name())
      .Str("member", w.member())
      .Str("namespace", w.namespace_())
      .Str("kind", KindText(w.kind()))
      .Str("machine_group", w.machine_group())
      .Str("machine_type", w.machine_type())
      .Str("image", w.image())
      .Str("phase", PhaseText(w.phase()))
      .Str("reason", w.reason())
      .Str("message", w.message())
      .Str("node", w.node())
      .Str("gpu_model", w.gpu_model())
      .Int("gpu_count", w.gpu_count())
      .Str("url", w.url())
      .Str("access_token", w.access_token())
      .Str("created", TimeText(w.created()))
      .Int("age_seconds", w.age_seconds())
      .Value("volumes", std::move(volumes))
      .Int("queue_position", w.queue_position())
      .Int("queue_length", w.queue_length())
      .Str("estimated_start", TimeText(w.estimated_start()))
      .Str("estimate_note", w.estimate_note())
      .Done();
}

std::vector<rapidjson::Value> VolumeViews(const gw::Storage& s, Allocator& a) {
  std::vector<rapidjson::Value> out;
  for (const gw::Volume& v : s.volumes()) {
    out.push_back(Builder(a)
                      .Str("volume", v.kind() == gw::VOLUME_KIND_NFS ? "nfs" : "cephfs")
                      .Str("claim", v.claim())
                      .Str("storage_class", v.storage_class())
                      .Str("size", v.size())
                      .Str("capacity", v.capacity())
                      .Str("phase", v.phase())
                      .Bool("resizing", v.resizing())
                      .Str("mount_path", v.mount_path())
                      .Str("backup_schedule", s.backup().schedule())
                      .Str("last_backup", TimeText(s.backup().last_success()))
                      .Str("last_backup_attempt", TimeText(s.backup().last_schedule()))
                      .Done());
  }
  return out;
}

rapidjson::Value MemberView(const gw::Member& m, Allocator& a) {
  rapidjson::Value quota(rapidjson::kObjectType);
  std::map<std::string, std::string> sorted(m.quota().begin(), m.quota().end());
  for (const auto& [k, v] : sorted) quota.AddMember(json::String(k, a), json::String(v, a), a);
  return Builder(a)
      .Str("name", m.name())
      .Str("namespace", m.namespace_())
      .Bool("admin", m.admin())
      .Bool("has_password", m.has_password())
      .Str("created", TimeText(m.created()))
      .Str("last_login", TimeText(m.last_login()))
      .Int("active_sessions", m.active_sessions())
      .Value("quota", std::move(quota))
      .Done();
}

std::vector<Column> MachineColumns() {
  return {
      {"MACHINE TYPE", "",
       [](const rapidjson::Value& m) {
         return absl::StrCat(Get(m, "group"), "/", Get(m, "name"));
       }},
      {"GPU", "",
       [](const rapidjson::Value& m) {
         if (Get(m, "gpu_count") == "0") return std::string("-");
         std::string model = Get(m, "gpu_model");
         for (const char* fallback : {"gpu_machine", "gpu_family", "gpu_resource"}) {
           if (model.empty()) model = Get(m, fallback);
         }
         return absl::StrCat(model.empty() ? "GPU" : model, " x ", Get(m, "gpu_count"));
       }},
      {"CPU", "cpu"},
      {"MEMORY", "memory"},
      {"FREE/TOTAL", "",
       [](const rapidjson::Value& m) {
         return absl::StrCat(Get(m, "free"), "/", Get(m, "maximum"));
       }},
      {"WAITING", "waiting"},
  };
}

std::vector<Column> WorkspaceColumns() {
  return {
      {"NAME", "name"},
      {"KIND", "kind"},
      {"MACHINE TYPE", "",
       [](const rapidjson::Value& w) {
         return absl::StrCat(Get(w, "machine_group"), "/", Get(w, "machine_type"));
       }},
      {"PHASE", "",
       [](const rapidjson::Value& w) {
         std::string reason = Get(w, "reason");
         std::string phase = Get(w, "phase");
         std::string place = Get(w, "queue_position");
         if (!place.empty() && place != "0") {
           return absl::StrCat(phase, " (", place, " of ", Get(w, "queue_length"), " in line)");
         }
         return phase == "running" || reason.empty() ? phase
                                                     : absl::StrCat(phase, " (", reason, ")");
       }},
      {"NODE", "", [](const rapidjson::Value& w) { return Dash(Get(w, "node")); }},
      {"AGE", "",
       [](const rapidjson::Value& w) {
         const rapidjson::Value* age = json::FindMember(w, "age_seconds");
         return age == nullptr || !age->IsInt64() ? std::string("-")
                                                  : HumanDuration(absl::Seconds(age->GetInt64()));
       }},
      {"URL", "url"},
  };
}

std::vector<Column> VolumeColumns() {
  return {
      {"VOLUME", "volume"},
      {"CLAIM", "claim"},
      {"SIZE", "size"},
      {"CAPACITY", "", [](const rapidjson::Value& v) { return Dash(Get(v, "capacity")); }},
      {"PHASE", "",
       [](const rapidjson::Value& v) {
         return Get(v, "resizing") == "true" ? absl::StrCat(Get(v, "phase"), " (resizing)")
                                             : Get(v, "phase");
       }},
      {"MOUNT", "mount_path"},
      {"LAST BACKUP", "",
       [](const rapidjson::Value& v) {
         return Get(v, "last_backup").empty() ? std::string("never") : Get(v, "last_backup");
       }},
  };
}

std::vector<Column> MemberColumns() {
  return {
      {"NAME", "name"},
      {"NAMESPACE", "namespace"},
      {"ADMIN", "admin"},
      {"PASSWORD", "",
       [](const rapidjson::Value& m) {
         return Get(m, "has_password") == "true" ? std::string("set") : std::string("none");
       }},
      {"SESSIONS", "active_sessions"},
      {"LAST LOGIN", "", [](const rapidjson::Value& m) { return Dash(Get(m, "last_login")); }},
  };
}

}  // namespace labkube::cli
