#include "lib/kube/testing/patch.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"

namespace labkube::kube::testing {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

void MergeInto(rapidjson::Value& target, const rapidjson::Value& patch, Allocator& alloc) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, alloc);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (const auto& m : patch.GetObject()) {
    if (m.value.IsNull()) {
      target.RemoveMember(m.name);
      continue;
    }
    auto it = target.FindMember(m.name);
    if (it == target.MemberEnd()) {
      target.AddMember(rapidjson::Value(m.name, alloc), rapidjson::Value(), alloc);
      it = target.MemberEnd() - 1;
    }
    MergeInto(it->value, m.value, alloc);
  }
}

absl::Status Error(std::string_view what, std::string_view path) {
  return absl::InvalidArgumentError(
      absl::StrCat("json patch: ", ToAbsl(what), " at \"", ToAbsl(path), "\""));
}

// Splits a JSON Pointer ("/a/b~1c/0") into unescaped tokens.
absl::StatusOr<std::vector<std::string>> ParsePointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') return Error("pointer must start with '/'", pointer);
  for (size_t start = 1; start <= pointer.size();) {
    size_t end = pointer.find('/', start);
    if (end == std::string_view::npos) end = pointer.size();
    std::string token;
    for (size_t i = start; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token += pointer[++i] == '0' ? '~' : '/';
      } else {
        token += pointer[i];
      }
    }
    tokens.push_back(std::move(token));
    start = end + 1;
  }
  return tokens;
}

// Index `token` into array `array`; `allow_end` accepts "-" and size() (for add).
std::optional<size_t> ArrayIndex(const rapidjson::Value& array, const std::string& token,
                                 bool allow_end) {
  size_t size = array.Size();
  if (token == "-") return allow_end ? std::optional<size_t>(size) : std::nullopt;
  if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  size_t index = std::stoul(token);
  if (index > size || (index == size && !allow_end)) return std::nullopt;
  return index;
}

// The value at `tokens` below `root`, or nullptr.
rapidjson::Value* Resolve(rapidjson::Value& root, const std::vector<std::string>& tokens,
                          size_t count) {
  rapidjson::Value* cur = &root;
  for (size_t i = 0; i < count && cur != nullptr; ++i) {
    if (cur->IsObject()) {
      auto it = cur->FindMember(rapidjson::StringRef(tokens[i].data(), tokens[i].size()));
      cur = it == cur->MemberEnd() ? nullptr : &it->value;
    } else if (cur->IsArray()) {
      std::optional<size_t> index = ArrayIndex(*cur, tokens[i], false);
      cur = index.has_value() ? &(*cur)[*index] : nullptr;
    } else {
      cur = nullptr;
    }
  }
  return cur;
}

class Patcher {
 public:
  explicit Patcher(rapidjson::Document& doc) : doc_(doc), alloc_(doc.GetAllocator()) {}

  absl::Status Apply(const rapidjson::Value& op);

 private:
  absl::Status Add(std::string_view path, rapidjson::Value value);
  absl::StatusOr<rapidjson::Value> Remove(std::string_view path);
  absl::StatusOr<rapidjson::Value*> Get(std::string_view path);

  rapidjson::Document& doc_;
  Allocator& alloc_;
};

absl::StatusOr<rapidjson::Value*> Patcher::Get(std::string_view path) {
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(path);
  if (!tokens.ok()) return tokens.status();
  rapidjson::Value* v = Resolve(doc_, *tokens, tokens->size());
  if (v == nullptr) return Error("no value", path);
  return v;
}

absl::Status Patcher::Add(std::string_view path, rapidjson::Value value) {
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(path);
  if (!tokens.ok()) return tokens.status();
  if (tokens->empty()) {
    static_cast<rapidjson::Value&>(doc_) = std::move(value);
    return absl::OkStatus();
  }
  rapidjson::Value* parent = Resolve(doc_, *tokens, tokens->size() - 1);
  const std::string& last = tokens->back();
  if (parent != nullptr && parent->IsObject()) {
    rapidjson::Value key(last.data(), last.size(), alloc_);
    parent->RemoveMember(key);
    parent->AddMember(key, value, alloc_);
    return absl::OkStatus();
  }
  if (parent == nullptr || !parent->IsArray()) return Error("no parent", path);
  std::optional<size_t> index = ArrayIndex(*parent, last, true);
  if (!index.has_value()) return Error("bad array index", path);
  parent->PushBack(value, alloc_);
  for (size_t i = parent->Size() - 1; i > *index; --i) (*parent)[i].Swap((*parent)[i - 1]);
  return absl::OkStatus();
}

absl::StatusOr<rapidjson::Value> Patcher::Remove(std::string_view path) {
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(path);
  if (!tokens.ok()) return tokens.status();
  if (tokens->empty()) return Error("cannot remove the root", path);
  rapidjson::Value* parent = Resolve(doc_, *tokens, tokens->size() - 1);
  const std::string& last = tokens->back();
  rapidjson::Value removed;
  if (parent != nullptr && parent->IsObject()) {
    auto it = parent->FindMember(rapidjson::StringRef(last.data(), last.size()));
    if (it == parent->MemberEnd()) return Error("no value", path);
    removed = std::move(it->value);
    parent->EraseMember(it);
    return removed;
  }
  std::optional<size_t> index;
  if (parent != nullptr && parent->IsArray()) index = ArrayIndex(*parent, last, false);
  if (!index.has_value()) return Error("no value", path);
  removed = std::move((*parent)[*index]);
  parent->Erase(parent->Begin() + *index);
  return removed;
}

absl::Status Patcher::Apply(const rapidjson::Value& op) {
  std::string_view name = json::GetString(op, {"op"});
  std::optional<std::string_view> path = json::FindString(op, {"path"});
  const rapidjson::Value* value = json::FindMember(op, "value");
  std::string_view from = json::GetString(op, {"from"});
  if (!path.has_value()) return Error("operation without path", name);
  bool needs_value = name == "add" || name == "replace" || name == "test";
  if (needs_value && value == nullptr) return Error("operation without value", *path);
  auto copy = [&](const rapidjson::Value& v) { return rapidjson::Value(v, alloc_); };
  if (name == "add") return Add(*path, copy(*value));
  if (name == "remove") return Remove(*path).status();
  if (name == "replace") {
    absl::StatusOr<rapidjson::Value> removed = Remove(*path);
    if (!removed.ok()) return removed.status();
    return Add(*path, copy(*value));
  }
  if (name == "test") {
    absl::StatusOr<rapidjson::Value*> current = Get(*path);
    if (!current.ok()) return current.status();
    return **current == *value ? absl::OkStatus() : Error("test failed", *path);
  }
  if (name == "move") {
    absl::StatusOr<rapidjson::Value> moved = Remove(from);
    if (!moved.ok()) return moved.status();
    return Add(*path, std::move(*moved));
  }
  if (name == "copy") {
    absl::StatusOr<rapidjson::Value*> source = Get(from);
    if (!source.ok()) return source.status();
    return Add(*path, copy(**source));
  }
  return Error(absl::StrCat("unknown operation \"", ToAbsl(name), "\""), *path);
}

}  // namespace

void ApplyMergePatch(rapidjson::Document& target, const rapidjson::Value& patch) {
  MergeInto(target, patch, target.GetAllocator());
}

absl::Status ApplyJsonPatch(rapidjson::Document& target, const rapidjson::Value& patch) {
  if (!patch.IsArray()) return absl::InvalidArgumentError("json patch must be an array");
  rapidjson::Document work;
  work.CopyFrom(target, work.GetAllocator());
  Patcher patcher(work);
  for (const rapidjson::Value& op : patch.GetArray()) {
    if (absl::Status s = patcher.Apply(op); !s.ok()) return s;
  }
  target.Swap(work);
  return absl::OkStatus();
}

}  // namespace labkube::kube::testing
