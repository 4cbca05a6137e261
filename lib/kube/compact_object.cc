#include "lib/kube/compact_object.h"

#include <utility>

namespace labkube::kube {
namespace {

using rapidjson::SizeType;
using rapidjson::Value;
using Node = FieldMask::Node;

// What rapidjson's MemoryPoolAllocator rounds every allocation to, and the longest string a
// Value keeps inline (no allocation) with the 48-bit pointer layout x86-64 uses. Should either
// differ, the copy stays correct: the pool adds a chunk when its first one is full.
constexpr size_t Align(size_t n) { return (n + 7) & ~size_t{7}; }
constexpr size_t kInlineString = 13;

// Counts the bytes a copy allocates, the way GenericDocument's SAX handler allocates them:
// strings longer than kInlineString, then one exact array per object's members and per array.
class Counter {
 public:
  void String(const char*, SizeType length) {
    if (length > kInlineString) bytes_ += Align(length + 1);
  }
  void Key(const char* s, SizeType length) { String(s, length); }
  void Scalar(const Value&) {}
  void StartObject() {}
  void EndObject(SizeType members) { bytes_ += Align(members * sizeof(Value::Member)); }
  void StartArray() {}
  void EndArray(SizeType elements) { bytes_ += Align(elements * sizeof(Value)); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

// Replays the walk into a GenericDocument (its SAX handler), copying every string.
class Emitter {
 public:
  explicit Emitter(rapidjson::Document& doc) : doc_(doc) {}
  void String(const char* s, SizeType length) { doc_.String(s, length, true); }
  void Key(const char* s, SizeType length) { doc_.Key(s, length, true); }
  void Scalar(const Value& v) {
    if (v.IsNull())
      doc_.Null();
    else if (v.IsBool())
      doc_.Bool(v.GetBool());
    else if (v.IsDouble())
      doc_.Double(v.GetDouble());
    else if (v.IsInt())
      doc_.Int(v.GetInt());
    else if (v.IsUint())
      doc_.Uint(v.GetUint());
    else if (v.IsInt64())
      doc_.Int64(v.GetInt64());
    else
      doc_.Uint64(v.GetUint64());
  }
  void StartObject() { doc_.StartObject(); }
  void EndObject(SizeType members) { doc_.EndObject(members); }
  void StartArray() { doc_.StartArray(); }
  void EndArray(SizeType elements) { doc_.EndArray(elements); }

 private:
  rapidjson::Document& doc_;
};

// Walks `v` under `mask` (nullptr: the whole value) into `out`.
template <typename Out>
void Walk(const Value& v, const Node* mask, Out& out, bool drop_managed_fields = false) {
  if (mask != nullptr && mask->children.empty()) mask = nullptr;
  if (v.IsString()) return out.String(v.GetString(), v.GetStringLength());
  if (v.IsArray()) {
    out.StartArray();
    for (const Value& e : v.GetArray()) Walk(e, mask, out);
    return out.EndArray(v.Size());
  }
  if (!v.IsObject()) return out.Scalar(v);
  out.StartObject();
  SizeType kept = 0;
  for (const auto& m : v.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (drop_managed_fields && name == "managedFields") continue;
    const Node* child = nullptr;
    if (mask != nullptr) {
      auto it = mask->children.find(name);
      if (it == mask->children.end()) continue;
      child = &it->second;
    }
    out.Key(m.name.GetString(), m.name.GetStringLength());
    Walk(m.value, child, out);
    ++kept;
  }
  out.EndObject(kept);
}

// The root: the mask's members plus apiVersion, kind and metadata (without managedFields), and
// kind/apiVersion added when absent.
template <typename Out>
void WalkRoot(const Value& object, const FieldMask& mask, std::string_view kind,
              std::string_view api_version, Out& out) {
  out.StartObject();
  SizeType kept = 0;
  bool has_kind = false, has_api_version = false;
  for (const auto& m : object.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    has_kind = has_kind || name == "kind";
    has_api_version = has_api_version || name == "apiVersion";
    bool always = name == "apiVersion" || name == "kind" || name == "metadata";
    const Node* child = nullptr;
    if (!always && !mask.KeepsEverything()) {
      auto it = mask.root().children.find(name);
      if (it == mask.root().children.end()) continue;
      child = &it->second;
    }
    out.Key(m.name.GetString(), m.name.GetStringLength());
    Walk(m.value, child, out, /*drop_managed_fields=*/name == "metadata");
    ++kept;
  }
  for (auto [key, value, present] : {std::tuple{std::string_view("kind"), kind, has_kind},
                                     {"apiVersion", api_version, has_api_version}}) {
    if (present || value.empty()) continue;
    out.Key(key.data(), static_cast<SizeType>(key.size()));
    out.String(value.data(), static_cast<SizeType>(value.size()));
    ++kept;
  }
  out.EndObject(kept);
}

// The document and the pool it lives in, freed together with the last ObjectPtr.
struct Compact {
  explicit Compact(size_t bytes) : pool(bytes), doc(&pool) {}
  rapidjson::MemoryPoolAllocator<> pool;
  rapidjson::Document doc;
};

}  // namespace

FieldMask& FieldMask::Keep(json::Path path) {
  Node* node = &root_;
  for (std::string_view name : path) node = &node->children[std::string(name)];
  node->children.clear();  // the whole value from here down
  return *this;
}

size_t CompactSize(const rapidjson::Value& object, const FieldMask& mask) {
  if (!object.IsObject()) return 0;
  Counter counter;
  WalkRoot(object, mask, "", "", counter);
  return counter.bytes();
}

ObjectPtr CompactCopy(const rapidjson::Value& object, const FieldMask& mask, std::string_view kind,
                      std::string_view api_version) {
  if (!object.IsObject()) {
    auto doc = std::make_shared<rapidjson::Document>();
    doc->CopyFrom(object, doc->GetAllocator());
    return doc;
  }
  Counter counter;
  WalkRoot(object, mask, kind, api_version, counter);
  auto compact = std::make_shared<Compact>(std::max<size_t>(counter.bytes(), 64));
  auto generate = [&](rapidjson::Document& handler) {
    Emitter emitter(handler);
    WalkRoot(object, mask, kind, api_version, emitter);
    return true;
  };
  compact->doc.Populate(generate);
  return ObjectPtr(compact, &compact->doc);
}

}  // namespace labkube::kube
