// Small RapidJSON helpers used across labkube: parsing with readable errors, serialising,
// reading fields by path while tolerating missing ones, and building objects.
//
// Getters return views into the document (std::string_view, const Value*): they stay valid as
// long as the document is alive and that part of it is not modified. Free functions, no state;
// safe from any thread as long as each document is used by one thread at a time (RapidJSON
// documents are not thread-safe for writes).
#ifndef LABKUBE_LIB_KUBE_JSON_H_
#define LABKUBE_LIB_KUBE_JSON_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rapidjson/document.h"

namespace labkube::kube::json {

using Path = std::initializer_list<std::string_view>;
using Allocator = rapidjson::Document::AllocatorType;

// Parses `text`; errors are kInvalidArgument naming the byte offset and the reason.
absl::StatusOr<rapidjson::Document> Parse(std::string_view text);

// Compact JSON text of `value`.
std::string ToString(const rapidjson::Value& value);

// The string value `v` (must be a string) as a view.
inline std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// Member `key` of object `v`; nullptr when `v` is not an object or has no such member.
const rapidjson::Value* FindMember(const rapidjson::Value& v, std::string_view key);
// The value at `path` (object keys) below `v`; nullptr when any step is missing.
const rapidjson::Value* Find(const rapidjson::Value& v, Path path);

// Typed getters: std::nullopt (Find*) or the default (Get*) when missing or of another type.
std::optional<std::string_view> FindString(const rapidjson::Value& v, Path path);
std::string_view GetString(const rapidjson::Value& v, Path path);
std::optional<int64_t> FindInt(const rapidjson::Value& v, Path path);
int64_t GetInt(const rapidjson::Value& v, Path path, int64_t fallback = 0);
std::optional<bool> FindBool(const rapidjson::Value& v, Path path);
bool GetBool(const rapidjson::Value& v, Path path, bool fallback = false);

// A string value holding a copy of `s`.
rapidjson::Value String(std::string_view s, Allocator& allocator);
// A deep copy of `v` as a new document.
rapidjson::Document Copy(const rapidjson::Value& v);

// Sets `key` on object `object` (replacing an existing member) to `value`.
void Set(rapidjson::Value& object, std::string_view key, rapidjson::Value value,
         Allocator& allocator);
// Sets the value at `path` below `root`, creating (or replacing non-object) intermediate
// objects. Returns the stored value. `root` becomes an object if it is not one.
rapidjson::Value& SetPath(rapidjson::Value& root, Path path, rapidjson::Value value,
                          Allocator& allocator);
// Convenience forms on a document, using its allocator.
void SetString(rapidjson::Document& doc, Path path, std::string_view value);
void SetInt(rapidjson::Document& doc, Path path, int64_t value);
void SetBool(rapidjson::Document& doc, Path path, bool value);
void SetValue(rapidjson::Document& doc, Path path, const rapidjson::Value& value);  // deep copy

// {"apiVersion": .., "kind": .., "metadata": {"name": .., "namespace": ..}}; empty strings are
// left out.
rapidjson::Document NewObject(std::string_view api_version, std::string_view kind,
                              std::string_view ns, std::string_view name);

}  // namespace labkube::kube::json

#endif  // LABKUBE_LIB_KUBE_JSON_H_
