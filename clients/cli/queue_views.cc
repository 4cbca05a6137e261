#include "lib/ordinal.h"
#include "clients/cli/queue_views.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/json.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;

std::string Get(const rapidjson::Value& item, const char* key) {
  const rapidjson::Value* v = json::FindMember(item, key);
  return v == nullptr ? "" : CellText(*v);
}

std::optional<absl::Time> ParsedTime(const std::string& text) {
  absl::Time t;
  std::string error;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return std::nullopt;
  return t;
}

std::string TimestampText(const google::protobuf::Timestamp& t) {
  return t.seconds() == 0 ? "" : Rfc3339(absl::FromUnixSeconds(t.seconds()));
}

std::string EstimateCell(const rapidjson::Value& e, absl::Time now, absl::TimeZone tz) {
  std::optional<absl::Time> t = ParsedTime(Get(e, "estimated_start"));
  return t ? ClockText(*t, now, tz) : std::string("no estimate");
}

std::string WaitedCell(const rapidjson::Value& e, absl::Time now) {
  std::optional<absl::Time> t = ParsedTime(Get(e, "waiting_since"));
  return t ? HumanDuration(now - *t) : std::string("-");
}

}  // namespace


std::string ClockText(absl::Time t, absl::Time now, absl::TimeZone tz) {
  const bool same_day =
      absl::FormatTime("%Y-%m-%d", t, tz) == absl::FormatTime("%Y-%m-%d", now, tz);
  return absl::FormatTime(same_day ? "%H:%M" : "%b %d %H:%M", t, tz);
}

std::string InLineText(const gw::Workspace& w, absl::Time now, absl::TimeZone tz) {
  if (w.queue_position() <= 0) return "";
  std::string out = absl::StrCat("waiting for ", w.machine_type(), ": ",
                                 Ordinal(w.queue_position()), " of ",
                                 std::max(w.queue_length(), w.queue_position()), " in line");
  if (w.estimated_start().seconds() > 0) {
    absl::StrAppend(&out, " (estimated ",
                    ClockText(absl::FromUnixSeconds(w.estimated_start().seconds()), now, tz), ")");
  } else {
    absl::StrAppend(&out, " (no estimate)");
  }
  return out;
}

rapidjson::Value QueueEntryView(const gw::Queue& q, const gw::QueueEntry& e,
                                rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  auto str = [&](const char* key, const std::string& value) {
    v.AddMember(rapidjson::StringRef(key), json::String(value, a), a);
  };
  str("group", q.group());
  str("machine_type", q.machine_type());
  v.AddMember("position", e.position(), a);
  v.AddMember("length", q.entries_size(), a);
  str("member", e.member());
  str("namespace", e.namespace_());
  str("pod", e.pod());
  str("workspace", e.workspace());
  v.AddMember("mine", e.mine(), a);
  str("waiting_since", TimestampText(e.waiting_since()));
  str("estimated_start", TimestampText(e.estimated_start()));
  return v;
}

std::vector<Column> QueueColumns(absl::Time now, absl::TimeZone tz) {
  return {
      {"#", "position"},
      {"MEMBER", "",
       [](const rapidjson::Value& e) {
         std::string m = Get(e, "member");
         return m.empty() ? Get(e, "namespace") : m;
       }},
      {"POD", "",
       [](const rapidjson::Value& e) {
         std::string pod = Get(e, "pod");
         std::string ws = Get(e, "workspace");
         return pod.empty() ? std::string("-")
                : ws.empty() ? pod
                             : absl::StrCat(pod, " (workspace ", ws, ")");
       }},
      {"WAITING", "", [now](const rapidjson::Value& e) { return WaitedCell(e, now); }},
      {"ESTIMATED START", "",
       [now, tz](const rapidjson::Value& e) { return EstimateCell(e, now, tz); }},
      {"MINE", "",
       [](const rapidjson::Value& e) {
         return Get(e, "mine") == "true" ? std::string("yes") : std::string("");
       }},
  };
}

std::vector<Column> MyQueueColumns(absl::Time now, absl::TimeZone tz) {
  return {
      {"MACHINE TYPE", "",
       [](const rapidjson::Value& e) {
         return absl::StrCat(Get(e, "group"), "/", Get(e, "machine_type"));
       }},
      {"PLACE", "",
       [](const rapidjson::Value& e) {
         return absl::StrCat(Get(e, "position"), " of ", Get(e, "length"));
       }},
      {"WORKSPACE", "",
       [](const rapidjson::Value& e) {
         std::string ws = Get(e, "workspace");
         return ws.empty() ? std::string("-") : ws;
       }},
      {"POD", "pod"},
      {"WAITING", "", [now](const rapidjson::Value& e) { return WaitedCell(e, now); }},
      {"ESTIMATED START", "",
       [now, tz](const rapidjson::Value& e) { return EstimateCell(e, now, tz); }},
  };
}

}  // namespace labkube::cli
