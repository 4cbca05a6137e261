#include "clients/cli/output.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace labkube::cli {
namespace {

namespace json = kube::json;

// Strings YAML 1.1 readers (kubectl, PyYAML) would take for something else get quotes.
bool NeedsQuotes(const std::string& s) {
  static const char* kWords[] = {"y",     "n",    "yes",  "no",    "on",   "off", "true",
                                 "false", "null", "~",    "Y",     "N",    "Yes", "No",
                                 "On",    "Off",  "True", "False", "Null", "YES", "NO",
                                 "ON",    "OFF",  "TRUE", "FALSE", "NULL"};
  if (s.empty()) return true;
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  const char first = s.front();
  if ((first >= '0' && first <= '9') ||
      std::string("-+.?:,[]{}#&*!|>'\"%@` ").find(first) != std::string::npos) {
    return true;
  }
  return s.find(": ") != std::string::npos || s.find(" #") != std::string::npos ||
         s.find('\n') != std::string::npos || s.back() == ':' || s.back() == ' ';
}

void Emit(YAML::Emitter& out, const rapidjson::Value& v) {
  if ((v.IsObject() && v.ObjectEmpty()) || (v.IsArray() && v.Empty())) {
    out << YAML::Flow << (v.IsObject() ? YAML::BeginMap : YAML::BeginSeq)
        << (v.IsObject() ? YAML::EndMap : YAML::EndSeq);
  } else if (v.IsObject()) {
    out << YAML::BeginMap;
    for (const auto& m : v.GetObject()) {
      out << YAML::Key << m.name.GetString() << YAML::Value;
      Emit(out, m.value);
    }
    out << YAML::EndMap;
  } else if (v.IsArray()) {
    out << YAML::BeginSeq;
    for (const auto& item : v.GetArray()) Emit(out, item);
    out << YAML::EndSeq;
  } else if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
    out << s;
  } else if (v.IsNull()) {
    out << YAML::Null;
  } else {
    out << CellText(v);
  }
}

}  // namespace

absl::StatusOr<Format> ParseFormat(std::string_view text) {
  if (text == "table" || text == "wide" || text.empty()) return Format::kTable;
  if (text == "json") return Format::kJson;
  if (text == "yaml") return Format::kYaml;
  return absl::InvalidArgumentError(
      absl::StrCat("-o: unknown output format \"", ToAbsl(text), "\" (use table, json or yaml)"));
}

std::string CellText(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsNull()) return "";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return absl::StrCat(v.GetInt64());
  if (v.IsUint64()) return absl::StrCat(v.GetUint64());
  if (v.IsNumber()) return absl::StrCat(v.GetDouble());
  return json::ToString(v);
}

std::string ToPrettyJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  value.Accept(writer);
  return absl::StrCat(absl::string_view(buffer.GetString(), buffer.GetSize()), "\n");
}

std::string ToYaml(const rapidjson::Value& value) {
  if (value.IsArray() && value.Empty()) return "[]\n";
  if (value.IsObject() && value.ObjectEmpty()) return "{}\n";
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  out.SetIndent(2);
  Emit(out, value);
  return absl::StrCat(out.c_str(), "\n");
}

std::string RenderList(const rapidjson::Value& items, const std::vector<Column>& columns,
                       Format format, std::string_view empty) {
  if (format == Format::kJson) return ToPrettyJson(items);
  if (format == Format::kYaml) return ToYaml(items);
  if (items.Empty()) return empty.empty() ? "" : absl::StrCat(ToAbsl(empty), "\n");
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back();
  for (const Column& c : columns) rows.back().push_back(c.header);
  for (const rapidjson::Value& item : items.GetArray()) {
    rows.emplace_back();
    for (const Column& c : columns) {
      const rapidjson::Value* v = json::FindMember(item, c.key);
      rows.back().push_back(c.cell ? c.cell(item) : v == nullptr ? "" : CellText(*v));
    }
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string RenderObject(const rapidjson::Value& object, Format format) {
  if (format == Format::kJson) return ToPrettyJson(object);
  if (format == Format::kYaml) return ToYaml(object);
  size_t width = 0;
  for (const auto& m : object.GetObject())
    width = std::max<size_t>(width, m.name.GetStringLength());
  std::string out;
  for (const auto& m : object.GetObject()) {
    std::string key = absl::StrCat(m.name.GetString(), ":");
    key.append(width + 2 - key.size(), ' ');
    std::string value = CellText(m.value);
    if (m.value.IsArray()) {
      value.clear();
      for (const auto& item : m.value.GetArray()) {
        absl::StrAppend(&value, value.empty() ? "" : ", ", CellText(item));
      }
    }
    absl::StrAppend(&out, key, value, "\n");
  }
  return out;
}

std::string HumanDuration(absl::Duration d) {
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 2 * 3600) return absl::StrCat(s / 60, "m");
  if (s < 2 * 86400) return absl::StrCat(s / 3600, "h");
  return absl::StrCat(s / 86400, "d");
}

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace labkube::cli
