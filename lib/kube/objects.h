// Builds the Kubernetes objects labkube writes as JSON values, never as text: every string (a
// name, an image, a size a member sent) is copied into the document as a string value, so no
// input can change the document's structure and no quoting or escaping can go wrong.
//
// Objects and arrays are written the way they read in a manifest:
//   kube::Builder b;
//   rapidjson::Value spec = b.Object({{"type", b.Str("ClusterIP")},
//                                     {"ports", b.Array({b.Object({{"port", b.Int(80)}})})}});
//   absl::StatusOr<rapidjson::Document> service =
//       b.Finish(b.Manifest("v1", "Service", meta, {{"spec", std::move(spec)}}));
// A mistake while building (an empty or duplicate key, an object without apiVersion, kind or
// exactly one of metadata.name and metadata.generateName, an owner reference without a uid) does
// not abort: the first one is recorded and Finish returns it as kInternal, naming the object.
//
// Metadata is the read model's ObjectMeta (types.h). Meta/Manifest write its name (or
// generateName, for an object whose name the API server completes with a suffix), namespace,
// labels, annotations, ownerReferences (controller / blockOwnerDeletion only when true) and
// finalizers, leaving empty ones out; the fields the API server sets (uid, resourceVersion,
// generation, timestamps) are never written.
//
// Ownership: a Builder owns the document it builds into until Finish moves it out; the values
// it returns live in that document's allocator and belong inside the finished object (one
// Builder per object). Thread safety: none; use a Builder from one thread.
#ifndef LABKUBE_LIB_KUBE_OBJECTS_H_
#define LABKUBE_LIB_KUBE_OBJECTS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/kube/types.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// One member of an object being built: {"key", value}. `value` is mutable so that it can be
// moved out of an initializer list (whose elements are const).
struct Field {
  Field(std::string_view key, rapidjson::Value value) : key(key), value(std::move(value)) {}
  std::string_view key;
  mutable rapidjson::Value value;
};

// One element of an array being built.
struct Item {
  Item(rapidjson::Value value) : value(std::move(value)) {}  // NOLINT: implicit by design
  mutable rapidjson::Value value;
};

class Builder {
 public:
  Builder() : doc_(rapidjson::kObjectType) {}
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // Scalars. Strings are copied.
  rapidjson::Value Str(std::string_view s);
  rapidjson::Value Int(int64_t v) { return rapidjson::Value(v); }
  rapidjson::Value Bool(bool v) { return rapidjson::Value(v); }
  rapidjson::Value Null() { return rapidjson::Value(); }

  // {"key": value, ...} in the order given; an empty or repeated key is a mistake.
  rapidjson::Value Object(std::initializer_list<Field> fields);
  // [value, ...].
  rapidjson::Value Array(std::initializer_list<Item> items);
  // {"k": "v", ...} of a string map (in key order).
  rapidjson::Value Map(const StringMap& map);

  // Adds a member to `object` (an object this Builder made), for members only sometimes there.
  void Add(rapidjson::Value& object, std::string_view key, rapidjson::Value value);
  // Appends to `array` (an array this Builder made).
  void Push(rapidjson::Value& array, rapidjson::Value value);

  // The written part of `meta` (see the file comment); no field is required here.
  rapidjson::Value Meta(const ObjectMeta& meta);
  // {"apiVersion", "kind", "metadata", fields...}; apiVersion, kind and exactly one of
  // metadata.name and metadata.generateName are required, and every owner reference needs
  // apiVersion, kind, name and uid.
  rapidjson::Value Manifest(std::string_view api_version, std::string_view kind,
                            const ObjectMeta& meta, std::initializer_list<Field> fields);

  // Records a mistake (the first one wins).
  void Fail(std::string_view message);
  const absl::Status& status() const { return status_; }

  // `root` as the document, or the first mistake recorded. The Builder is spent afterwards.
  absl::StatusOr<rapidjson::Document> Finish(rapidjson::Value root);

 private:
  rapidjson::Value OwnerReferences(const ObjectMeta& meta);
  void CheckManifest(std::string_view api_version, std::string_view kind, const ObjectMeta& meta);

  rapidjson::Document doc_;
  absl::Status status_;
  std::string context_;  // "Kind name" of the object being built, for errors
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_OBJECTS_H_
