#include "lib/kube/json.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace labkube::kube::json {

absl::StatusOr<rapidjson::Document> Parse(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    size_t offset = doc.GetErrorOffset();
    std::string_view near = text.substr(offset < text.size() ? offset : text.size(), 20);
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSON at offset ", offset, " of ", text.size(), ": ",
        rapidjson::GetParseError_En(doc.GetParseError()),
        near.empty() ? std::string() : absl::StrCat(" (near \"", ToAbsl(near), "\")")));
  }
  return doc;
}

std::string ToString(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const rapidjson::Value* FindMember(const rapidjson::Value& v, std::string_view key) {
  if (!v.IsObject()) return nullptr;
  rapidjson::Value k(rapidjson::StringRef(key.data(), key.size()));
  auto it = v.FindMember(k);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* Find(const rapidjson::Value& v, Path path) {
  const rapidjson::Value* cur = &v;
  for (std::string_view key : path) {
    cur = FindMember(*cur, key);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::optional<std::string_view> FindString(const rapidjson::Value& v, Path path) {
  const rapidjson::Value* f = Find(v, path);
  if (f == nullptr || !f->IsString()) return std::nullopt;
  return View(*f);
}

std::string_view GetString(const rapidjson::Value& v, Path path) {
  return FindString(v, path).value_or(std::string_view());
}

std::optional<int64_t> FindInt(const rapidjson::Value& v, Path path) {
  const rapidjson::Value* f = Find(v, path);
  if (f == nullptr || !f->IsInt64()) return std::nullopt;
  return f->GetInt64();
}

int64_t GetInt(const rapidjson::Value& v, Path path, int64_t fallback) {
  return FindInt(v, path).value_or(fallback);
}

std::optional<bool> FindBool(const rapidjson::Value& v, Path path) {
  const rapidjson::Value* f = Find(v, path);
  if (f == nullptr || !f->IsBool()) return std::nullopt;
  return f->GetBool();
}

bool GetBool(const rapidjson::Value& v, Path path, bool fallback) {
  return FindBool(v, path).value_or(fallback);
}

rapidjson::Value String(std::string_view s, Allocator& allocator) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), allocator);
}

rapidjson::Document Copy(const rapidjson::Value& v) {
  rapidjson::Document doc;
  doc.CopyFrom(v, doc.GetAllocator());
  return doc;
}

void Set(rapidjson::Value& object, std::string_view key, rapidjson::Value value,
         Allocator& allocator) {
  if (!object.IsObject()) object.SetObject();
  rapidjson::Value k(rapidjson::StringRef(key.data(), key.size()));
  auto it = object.FindMember(k);
  if (it != object.MemberEnd()) {
    it->value = value;  // RapidJSON assignment moves
    return;
  }
  object.AddMember(String(key, allocator), value, allocator);
}

rapidjson::Value& SetPath(rapidjson::Value& root, Path path, rapidjson::Value value,
                          Allocator& allocator) {
  rapidjson::Value* cur = &root;
  size_t i = 0;
  for (std::string_view key : path) {
    if (!cur->IsObject()) cur->SetObject();
    if (++i == path.size()) {
      Set(*cur, key, std::move(value), allocator);
      return (*cur)[rapidjson::Value(rapidjson::StringRef(key.data(), key.size()))];
    }
    rapidjson::Value k(rapidjson::StringRef(key.data(), key.size()));
    auto it = cur->FindMember(k);
    if (it == cur->MemberEnd()) {
      cur->AddMember(String(key, allocator), rapidjson::Value(rapidjson::kObjectType), allocator);
      it = cur->MemberEnd() - 1;
    }
    cur = &it->value;
  }
  *cur = value;  // empty path: replace the root
  return *cur;
}

void SetString(rapidjson::Document& doc, Path path, std::string_view value) {
  SetPath(doc, path, String(value, doc.GetAllocator()), doc.GetAllocator());
}

void SetInt(rapidjson::Document& doc, Path path, int64_t value) {
  SetPath(doc, path, rapidjson::Value(value), doc.GetAllocator());
}

void SetBool(rapidjson::Document& doc, Path path, bool value) {
  SetPath(doc, path, rapidjson::Value(value), doc.GetAllocator());
}

void SetValue(rapidjson::Document& doc, Path path, const rapidjson::Value& value) {
  SetPath(doc, path, rapidjson::Value(value, doc.GetAllocator()), doc.GetAllocator());
}

rapidjson::Document NewObject(std::string_view api_version, std::string_view kind,
                              std::string_view ns, std::string_view name) {
  rapidjson::Document doc(rapidjson::kObjectType);
  if (!api_version.empty()) SetString(doc, {"apiVersion"}, api_version);
  if (!kind.empty()) SetString(doc, {"kind"}, kind);
  SetPath(doc, {"metadata"}, rapidjson::Value(rapidjson::kObjectType), doc.GetAllocator());
  if (!name.empty()) SetString(doc, {"metadata", "name"}, name);
  if (!ns.empty()) SetString(doc, {"metadata", "namespace"}, ns);
  return doc;
}

}  // namespace labkube::kube::json
