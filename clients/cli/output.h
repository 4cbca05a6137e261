// How labctl prints what it lists: every listing is built as JSON values (RapidJSON) and
// rendered as a table (columns chosen per command), JSON (pretty, 2-space indent) or YAML,
// selected with -o table|json|yaml. Objects (describe, whoami) print as "key: value" lines in
// table form.
//
// Free functions; stateless; thread-safe.
#ifndef LABKUBE_CLIENTS_CLI_OUTPUT_H_
#define LABKUBE_CLIENTS_CLI_OUTPUT_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"

namespace labkube::cli {

enum class Format { kTable, kJson, kYaml };

// "table", "json", "yaml" (also "wide" = table); else kInvalidArgument naming -o.
absl::StatusOr<Format> ParseFormat(std::string_view text);

struct Column {
  std::string header;
  std::string key;  // member of each item; used when `cell` is empty
  std::function<std::string(const rapidjson::Value& item)> cell = nullptr;
};

// A list (array of objects) in `format`; tables get a header row and left-aligned columns
// separated by two spaces, and `empty` (e.g. "No workspaces.") when there are no items.
std::string RenderList(const rapidjson::Value& items, const std::vector<Column>& columns,
                       Format format, std::string_view empty = "");
// One object in `format`.
std::string RenderObject(const rapidjson::Value& object, Format format);

// A scalar as text: strings as they are, numbers, true/false, "" for null; nested values as
// compact JSON.
std::string CellText(const rapidjson::Value& value);

// YAML text of a JSON value (block style; strings quoted when YAML would misread them).
std::string ToYaml(const rapidjson::Value& value);
std::string ToPrettyJson(const rapidjson::Value& value);

// "45s", "12m", "3h", "5d".
std::string HumanDuration(absl::Duration d);
// RFC 3339 in UTC ("" for InfinitePast).
std::string Rfc3339(absl::Time t);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_OUTPUT_H_
