// Value builder for the objects labkube writes; see objects.h.
#include "lib/kube/objects.h"

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"

namespace labkube::kube {

rapidjson::Value Builder::Str(std::string_view s) { return json::String(s, doc_.GetAllocator()); }

void Builder::Add(rapidjson::Value& object, std::string_view key, rapidjson::Value value) {
  if (!object.IsObject()) {
    Fail(absl::StrCat("member \"", ToAbsl(key), "\" added to a value that is not an object"));
    return;
  }
  if (key.empty()) {
    Fail("empty key");
    return;
  }
  if (json::FindMember(object, key) != nullptr) {
    Fail(absl::StrCat("duplicate key \"", ToAbsl(key), "\""));
    return;
  }
  object.AddMember(Str(key), value, doc_.GetAllocator());
}

void Builder::Push(rapidjson::Value& array, rapidjson::Value value) {
  if (!array.IsArray()) {
    Fail("element appended to a value that is not an array");
    return;
  }
  array.PushBack(value, doc_.GetAllocator());
}

rapidjson::Value Builder::Object(std::initializer_list<Field> fields) {
  rapidjson::Value object(rapidjson::kObjectType);
  for (const Field& f : fields) Add(object, f.key, std::move(f.value));
  return object;
}

rapidjson::Value Builder::Array(std::initializer_list<Item> items) {
  rapidjson::Value array(rapidjson::kArrayType);
  for (const Item& item : items) Push(array, std::move(item.value));
  return array;
}

rapidjson::Value Builder::Map(const StringMap& map) {
  rapidjson::Value object(rapidjson::kObjectType);
  for (const auto& [k, v] : map) Add(object, k, Str(v));
  return object;
}

rapidjson::Value Builder::OwnerReferences(const ObjectMeta& meta) {
  rapidjson::Value refs(rapidjson::kArrayType);
  for (const OwnerReference& r : meta.owner_references) {
    rapidjson::Value ref = Object({{"apiVersion", Str(r.api_version)},
                                   {"kind", Str(r.kind)},
                                   {"name", Str(r.name)},
                                   {"uid", Str(r.uid)}});
    if (r.controller) Add(ref, "controller", Bool(true));
    if (r.block_owner_deletion) Add(ref, "blockOwnerDeletion", Bool(true));
    Push(refs, std::move(ref));
  }
  return refs;
}

rapidjson::Value Builder::Meta(const ObjectMeta& meta) {
  rapidjson::Value out(rapidjson::kObjectType);
  if (!meta.name.empty()) Add(out, "name", Str(meta.name));
  if (!meta.generate_name.empty()) Add(out, "generateName", Str(meta.generate_name));
  if (!meta.namespace_.empty()) Add(out, "namespace", Str(meta.namespace_));
  if (!meta.labels.empty()) Add(out, "labels", Map(meta.labels));
  if (!meta.annotations.empty()) Add(out, "annotations", Map(meta.annotations));
  if (!meta.owner_references.empty()) Add(out, "ownerReferences", OwnerReferences(meta));
  if (!meta.finalizers.empty()) {
    rapidjson::Value finalizers(rapidjson::kArrayType);
    for (const std::string& f : meta.finalizers) Push(finalizers, Str(f));
    Add(out, "finalizers", std::move(finalizers));
  }
  return out;
}

void Builder::CheckManifest(std::string_view api_version, std::string_view kind,
                            const ObjectMeta& meta) {
  if (context_.empty()) {
    context_ = absl::StrCat(kind.empty() ? "object" : ToAbsl(kind), " ",
                            !meta.name.empty()            ? meta.name
                            : !meta.generate_name.empty() ? meta.generate_name + "(generated)"
                                                          : "(no name)");
  }
  if (api_version.empty()) Fail("apiVersion is required");
  if (kind.empty()) Fail("kind is required");
  if (meta.name.empty() && meta.generate_name.empty()) {
    Fail("metadata.name is required (or metadata.generateName for a name the API server makes)");
  }
  if (!meta.name.empty() && !meta.generate_name.empty()) {
    Fail("metadata.name and metadata.generateName are both set; set only one");
  }
  for (size_t i = 0; i < meta.owner_references.size(); ++i) {
    const OwnerReference& r = meta.owner_references[i];
    const char* missing = r.api_version.empty() ? "apiVersion"
                          : r.kind.empty()      ? "kind"
                          : r.name.empty()      ? "name"
                          : r.uid.empty()       ? "uid"
                                                : nullptr;
    if (missing != nullptr) {
      Fail(absl::StrCat("metadata.ownerReferences[", i, "].", missing, " is required"));
    }
  }
}

rapidjson::Value Builder::Manifest(std::string_view api_version, std::string_view kind,
                                   const ObjectMeta& meta, std::initializer_list<Field> fields) {
  CheckManifest(api_version, kind, meta);
  rapidjson::Value object =
      Object({{"apiVersion", Str(api_version)}, {"kind", Str(kind)}, {"metadata", Meta(meta)}});
  for (const Field& f : fields) Add(object, f.key, std::move(f.value));
  return object;
}

void Builder::Fail(std::string_view message) {
  if (status_.ok()) status_ = absl::InternalError(ToAbsl(message));
}

absl::StatusOr<rapidjson::Document> Builder::Finish(rapidjson::Value root) {
  if (!status_.ok()) {
    if (context_.empty()) return status_;
    return absl::InternalError(absl::StrCat("building ", context_, ": ", status_.message()));
  }
  static_cast<rapidjson::Value&>(doc_) = root;  // RapidJSON assignment moves
  return std::move(doc_);
}

}  // namespace labkube::kube
