#include "lib/kube/testing/selector.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"

namespace labkube::kube::testing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string_view> SplitTopLevel(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      parts.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  return parts;
}

absl::Status Invalid(std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("unable to parse requirement: \"", ToAbsl(text), "\""));
}

// Parses "(a, b)" into its values.
std::optional<std::vector<std::string>> ParseSet(std::string_view text) {
  text = Trim(text);
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return std::nullopt;
  std::vector<std::string> values;
  for (std::string_view v : SplitTopLevel(text.substr(1, text.size() - 2))) {
    values.emplace_back(v);
  }
  return values;
}

// The value of the field at dotted `path` as a string ("" when missing).
std::string FieldValue(const rapidjson::Value& object, std::string_view path) {
  const rapidjson::Value* cur = &object;
  while (cur != nullptr) {
    size_t dot = path.find('.');
    cur = json::FindMember(*cur, path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  if (cur == nullptr) return "";
  if (cur->IsString()) return std::string(json::View(*cur));
  return json::ToString(*cur);
}

}  // namespace

absl::StatusOr<Selector::Requirement> Selector::ParseRequirement(std::string_view text,
                                                                 bool fields) {
  if (text.empty()) return Invalid(text);
  if (!fields && text.front() == '!') {
    return Requirement{std::string(Trim(text.substr(1))), Op::kNotExists, {}};
  }
  for (auto [word, op] : {std::pair{" notin ", Op::kNotIn}, std::pair{" in ", Op::kIn}}) {
    size_t pos = text.find(word);
    if (pos == std::string_view::npos || fields) continue;
    std::optional<std::vector<std::string>> values = ParseSet(text.substr(pos + strlen(word)));
    if (!values.has_value()) return Invalid(text);
    return Requirement{std::string(Trim(text.substr(0, pos))), op, *std::move(values)};
  }
  for (auto [token, op] : {std::pair{"!=", Op::kNotEquals}, std::pair{"==", Op::kEquals},
                           std::pair{"=", Op::kEquals}}) {
    size_t pos = text.find(token);
    if (pos == std::string_view::npos) continue;
    std::string key(Trim(text.substr(0, pos)));
    if (key.empty()) return Invalid(text);
    return Requirement{key, op, {std::string(Trim(text.substr(pos + strlen(token))))}};
  }
  if (fields || text.find_first_of(" ()") != std::string_view::npos) return Invalid(text);
  return Requirement{std::string(text), Op::kExists, {}};
}

absl::StatusOr<Selector> Selector::ParseLabels(std::string_view text) {
  Selector selector;
  if (Trim(text).empty()) return selector;
  for (std::string_view part : SplitTopLevel(text)) {
    absl::StatusOr<Requirement> r = ParseRequirement(part, /*fields=*/false);
    if (!r.ok()) return r.status();
    selector.requirements_.push_back(*std::move(r));
  }
  return selector;
}

absl::StatusOr<Selector> Selector::ParseFields(std::string_view text) {
  Selector selector;
  selector.fields_ = true;
  if (Trim(text).empty()) return selector;
  for (std::string_view part : SplitTopLevel(text)) {
    absl::StatusOr<Requirement> r = ParseRequirement(part, /*fields=*/true);
    if (!r.ok()) return r.status();
    selector.requirements_.push_back(*std::move(r));
  }
  return selector;
}

bool Selector::Matches(const rapidjson::Value& object) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return MatchesOne(r, object); });
}

bool Selector::MatchesOne(const Requirement& r, const rapidjson::Value& object) const {
  std::optional<std::string> value;
  if (fields_) {
    value = FieldValue(object, r.key);
  } else if (std::optional<std::string_view> v =
                 json::FindString(object, {"metadata", "labels", r.key})) {
    value = std::string(*v);
  }
  auto in = [&] {
    return value.has_value() &&
           std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  };
  switch (r.op) {
    case Op::kEquals:
      return value.has_value() && *value == r.values[0];
    case Op::kNotEquals:
      return !value.has_value() || *value != r.values[0];
    case Op::kExists:
      return value.has_value();
    case Op::kNotExists:
      return !value.has_value();
    case Op::kIn:
      return in();
    case Op::kNotIn:
      return !in();
  }
  return false;
}

}  // namespace labkube::kube::testing
