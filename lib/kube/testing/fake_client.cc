// FakeClient: storage and writes. Watch and the test controls are in fake_client_watch.cc.
#include "lib/kube/testing/fake_client.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"
#include "lib/kube/testing/patch.h"
#include "lib/kube/testing/selector.h"
#include "lib/status_macros.h"

namespace labkube::kube::testing {
namespace {

std::string RvOf(const rapidjson::Value& object) {
  return std::string(json::GetString(object, {"metadata", "resourceVersion"}));
}

absl::Status NotFound(const Resource& resource, std::string_view name) {
  return absl::NotFoundError(absl::StrCat(resource.plural, " \"", ToAbsl(name), "\" not found"));
}

absl::Status Conflict(const Resource& resource, std::string_view name, std::string_view why) {
  return absl::AbortedError(absl::StrCat("Operation cannot be fulfilled on ", resource.plural,
                                         " \"", ToAbsl(name), "\": ", ToAbsl(why)));
}

// Whether `a` and `b` differ outside metadata and status (what bumps metadata.generation).
bool SpecDiffers(const rapidjson::Value& a, const rapidjson::Value& b) {
  auto skipped = [](const rapidjson::Value& name) {
    std::string_view n = json::View(name);
    return n == "metadata" || n == "status" || n == "kind" || n == "apiVersion";
  };
  size_t count_a = 0;
  for (const auto& m : a.GetObject()) {
    if (skipped(m.name)) continue;
    ++count_a;
    auto it = b.FindMember(m.name);
    if (it == b.MemberEnd() || it->value != m.value) return true;
  }
  size_t count_b = 0;
  for (const auto& m : b.GetObject()) count_b += skipped(m.name) ? 0 : 1;
  return count_a != count_b;
}

// Copies `field` below "metadata" from `from` to `to` (removing it from `to` if `from` lacks it).
void KeepMetadata(const rapidjson::Value& from, rapidjson::Document& to, std::string_view field) {
  const rapidjson::Value* v = json::Find(from, {"metadata", field});
  if (v != nullptr) {
    json::SetValue(to, {"metadata", field}, *v);
  } else if (rapidjson::Value* meta = const_cast<rapidjson::Value*>(json::Find(to, {"metadata"}));
             meta != nullptr && meta->IsObject()) {
    meta->RemoveMember(rapidjson::StringRef(field.data(), field.size()));
  }
}

// Sets top-level `field` of `to` to that of `from`, or removes it.
void KeepTopLevel(const rapidjson::Value& from, rapidjson::Document& to, std::string_view field) {
  const rapidjson::Value* v = json::FindMember(from, field);
  if (v != nullptr) {
    json::SetValue(to, {field}, *v);
  } else {
    to.RemoveMember(rapidjson::StringRef(field.data(), field.size()));
  }
}

// Continue tokens are "RV/NAMESPACE/NAME" of the list's version and its last item.
bool ParseContinue(std::string_view token, int64_t& rv,
                   std::pair<std::string, std::string>& after) {
  size_t slash1 = token.find('/');
  if (slash1 == token.npos) return false;
  size_t slash2 = token.find('/', slash1 + 1);
  if (slash2 == token.npos || !absl::SimpleAtoi(ToAbsl(token.substr(0, slash1)), &rv)) {
    return false;
  }
  after = {std::string(token.substr(slash1 + 1, slash2 - slash1 - 1)),
           std::string(token.substr(slash2 + 1))};
  return true;
}

// `prefix` plus 5 characters from the API server's alphabet, derived from `n`.
std::string GeneratedName(std::string_view prefix, int64_t n) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string name(prefix);
  for (int i = 0; i < 5; ++i, n /= kAlphabet.size()) name += kAlphabet[n % kAlphabet.size()];
  return name;
}

bool HasFinalizers(const rapidjson::Value& object) {
  const rapidjson::Value* f = json::Find(object, {"metadata", "finalizers"});
  return f != nullptr && f->IsArray() && !f->Empty();
}

}  // namespace

FakeClient::FakeClient(Clock& clock) : clock_(clock) {}

std::string FakeClient::ResourceKey(const Resource& resource) {
  return absl::StrCat(resource.group, "/", resource.plural);
}

std::string FakeClient::Timestamp() const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now(), absl::UTCTimeZone());
}

absl::Status FakeClient::BeginCall(std::string_view method) {
  absl::MutexLock lock(&mu_);
  ++calls_[std::string(method)];
  auto it = injected_.find(method);
  if (it == injected_.end()) return absl::OkStatus();
  absl::Status status = it->second.status;
  if (it->second.remaining > 0 && --it->second.remaining == 0) injected_.erase(it);
  return status;
}

FakeClient::ObjectPtr FakeClient::FindLocked(const Resource& resource, const Key& key) {
  auto objects = objects_.find(ResourceKey(resource));
  if (objects == objects_.end()) return nullptr;
  auto it = objects->second.find(key);
  return it == objects->second.end() ? nullptr : it->second;
}

absl::StatusOr<rapidjson::Document> FakeClient::Get(const Resource& resource, std::string_view ns,
                                                    std::string_view name) {
  LK_RETURN_IF_ERROR(BeginCall("Get"));
  absl::MutexLock lock(&mu_);
  ObjectPtr object =
      FindLocked(resource, {resource.namespaced ? std::string(ns) : "", std::string(name)});
  if (object == nullptr) return NotFound(resource, name);
  return json::Copy(*object);
}

absl::StatusOr<ObjectList> FakeClient::List(const Resource& resource, std::string_view ns,
                                            const ListOptions& options) {
  LK_RETURN_IF_ERROR(BeginCall("List"));
  LK_ASSIGN_OR_RETURN(Selector labels, Selector::ParseLabels(options.label_selector));
  LK_ASSIGN_OR_RETURN(Selector fields, Selector::ParseFields(options.field_selector));
  absl::MutexLock lock(&mu_);
  int64_t list_rv = rv_;
  Key after;
  if (!options.continue_token.empty()) {
    if (!ParseContinue(options.continue_token, list_rv, after)) {
      return absl::InvalidArgumentError("invalid continue token");
    }
    if (list_rv < compacted_rv_) {
      return absl::OutOfRangeError("The provided continue parameter is too old");
    }
  }
  ObjectList list;
  rapidjson::Document& doc = list.doc;
  doc.SetObject();
  rapidjson::Value items(rapidjson::kArrayType);
  const Objects& objects = objects_[ResourceKey(resource)];
  auto it = options.continue_token.empty() ? objects.begin() : objects.upper_bound(after);
  const Key* last = nullptr;
  for (; it != objects.end(); ++it) {
    if (resource.namespaced && !ns.empty() && it->first.first != ns) continue;
    if (!labels.Matches(*it->second) || !fields.Matches(*it->second)) continue;
    if (options.limit > 0 && items.Size() == static_cast<size_t>(options.limit)) {
      list.continue_token = absl::StrCat(list_rv, "/", last->first, "/", last->second);
      break;
    }
    last = &it->first;
    items.PushBack(rapidjson::Value(*it->second, doc.GetAllocator()), doc.GetAllocator());
  }
  list.resource_version = absl::StrCat(list_rv);
  json::SetString(doc, {"apiVersion"}, resource.ApiVersion());
  json::SetString(doc, {"kind"}, absl::StrCat(resource.kind, "List"));
  json::SetString(doc, {"metadata", "resourceVersion"}, list.resource_version);
  if (!list.continue_token.empty()) {
    json::SetString(doc, {"metadata", "continue"}, list.continue_token);
  }
  doc.AddMember("items", items, doc.GetAllocator());
  return list;
}

absl::StatusOr<rapidjson::Document> FakeClient::Create(const Resource& resource,
                                                       std::string_view ns,
                                                       const rapidjson::Value& object,
                                                       const WriteOptions& options) {
  {
    absl::MutexLock lock(&mu_);
    create_bodies_.push_back(json::Copy(object));
  }
  LK_RETURN_IF_ERROR(BeginCall("Create"));
  absl::MutexLock lock(&mu_);
  return CreateLocked(resource, std::string(ns), object, options.dry_run);
}

std::vector<rapidjson::Document> FakeClient::CreateBodies() {
  absl::MutexLock lock(&mu_);
  std::vector<rapidjson::Document> out;
  out.reserve(create_bodies_.size());
  for (const rapidjson::Document& d : create_bodies_) out.push_back(json::Copy(d));
  return out;
}

absl::StatusOr<rapidjson::Document> FakeClient::CreateLocked(const Resource& resource,
                                                             std::string ns,
                                                             const rapidjson::Value& object,
                                                             bool dry_run) {
  if (!object.IsObject()) return absl::InvalidArgumentError("object must be a JSON object");
  rapidjson::Document doc = json::Copy(object);
  std::string name(json::GetString(doc, {"metadata", "name"}));
  if (name.empty()) {
    std::string_view prefix = json::GetString(doc, {"metadata", "generateName"});
    if (prefix.empty()) return absl::InvalidArgumentError("name or generateName is required");
    name = GeneratedName(prefix, ++uid_counter_);
  }
  std::string_view object_ns = json::GetString(doc, {"metadata", "namespace"});
  if (!resource.namespaced) {
    ns.clear();
  } else if (ns.empty()) {
    ns = std::string(object_ns);
  } else if (!object_ns.empty() && object_ns != ns) {
    return absl::InvalidArgumentError(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  if (resource.namespaced && ns.empty()) return absl::InvalidArgumentError("namespace required");
  Key key{ns, name};
  if (FindLocked(resource, key) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat(resource.plural, " \"", name, "\" already exists"));
  }
  json::SetString(doc, {"apiVersion"}, resource.ApiVersion());
  json::SetString(doc, {"kind"}, resource.kind);
  json::SetString(doc, {"metadata", "name"}, name);
  if (resource.namespaced) json::SetString(doc, {"metadata", "namespace"}, ns);
  json::SetString(doc, {"metadata", "uid"},
                  absl::StrFormat("00000000-0000-4000-8000-%012d", ++uid_counter_));
  json::SetInt(doc, {"metadata", "generation"}, 1);
  json::SetString(doc, {"metadata", "creationTimestamp"}, Timestamp());
  if (dry_run) return doc;
  json::SetString(doc, {"metadata", "resourceVersion"}, absl::StrCat(++rv_));
  auto stored = std::make_shared<const rapidjson::Document>(std::move(doc));
  objects_[ResourceKey(resource)][key] = stored;
  AppendEvent(WatchEventType::kAdded, ResourceKey(resource), stored, nullptr);
  return json::Copy(*stored);
}

absl::StatusOr<rapidjson::Document> FakeClient::Update(const Resource& resource,
                                                       std::string_view ns, std::string_view name,
                                                       const rapidjson::Value& object,
                                                       std::string_view subresource,
                                                       const WriteOptions& options) {
  LK_RETURN_IF_ERROR(BeginCall("Update"));
  absl::MutexLock lock(&mu_);
  return UpdateLocked(resource, {resource.namespaced ? std::string(ns) : "", std::string(name)},
                      object, subresource, options.dry_run);
}

absl::StatusOr<rapidjson::Document> FakeClient::UpdateLocked(const Resource& resource,
                                                             const Key& key,
                                                             const rapidjson::Value& object,
                                                             std::string_view subresource,
                                                             bool dry_run) {
  ObjectPtr old = FindLocked(resource, key);
  if (old == nullptr) return NotFound(resource, key.second);
  if (!object.IsObject()) return absl::InvalidArgumentError("object must be a JSON object");
  std::string rv = RvOf(object);
  if (!rv.empty() && rv != RvOf(*old)) {
    return Conflict(resource, key.second,
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again");
  }
  std::string_view name = json::GetString(object, {"metadata", "name"});
  if (!name.empty() && name != key.second) {
    return absl::InvalidArgumentError("the name of the object does not match the request");
  }
  rapidjson::Document updated;
  if (subresource == "status") {
    updated = json::Copy(*old);
    KeepTopLevel(object, updated, "status");
  } else if (subresource.empty()) {
    updated = json::Copy(object);
    for (std::string_view field : {"name", "namespace", "uid", "creationTimestamp", "generation",
                                   "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      KeepMetadata(*old, updated, field);
    }
    for (std::string_view field : {"apiVersion", "kind", "status"}) {
      KeepTopLevel(*old, updated, field);
    }
  } else {
    return absl::NotFoundError(
        absl::StrCat("subresource \"", ToAbsl(subresource), "\" not supported by the fake"));
  }
  if (SpecDiffers(*old, updated)) {
    json::SetInt(updated, {"metadata", "generation"},
                 json::GetInt(*old, {"metadata", "generation"}) + 1);
  }
  json::SetString(updated, {"metadata", "resourceVersion"}, RvOf(*old));
  if (dry_run) return updated;
  return CommitUpdate(resource, key, std::move(updated));
}

rapidjson::Document FakeClient::CommitUpdate(const Resource& resource, const Key& key,
                                             rapidjson::Document updated) {
  ObjectPtr old = FindLocked(resource, key);
  if (static_cast<const rapidjson::Value&>(*old) == updated) return json::Copy(*old);
  if (json::Find(updated, {"metadata", "deletionTimestamp"}) != nullptr &&
      !HasFinalizers(updated)) {
    return RemoveLocked(resource, key, std::move(updated));
  }
  json::SetString(updated, {"metadata", "resourceVersion"}, absl::StrCat(++rv_));
  auto stored = std::make_shared<const rapidjson::Document>(std::move(updated));
  objects_[ResourceKey(resource)][key] = stored;
  AppendEvent(WatchEventType::kModified, ResourceKey(resource), stored, old);
  return json::Copy(*stored);
}

rapidjson::Document FakeClient::RemoveLocked(const Resource& resource, const Key& key,
                                             rapidjson::Document last) {
  json::SetString(last, {"metadata", "resourceVersion"}, absl::StrCat(++rv_));
  objects_[ResourceKey(resource)].erase(key);
  auto final_state = std::make_shared<const rapidjson::Document>(std::move(last));
  AppendEvent(WatchEventType::kDeleted, ResourceKey(resource), final_state, nullptr);
  return json::Copy(*final_state);
}

absl::StatusOr<rapidjson::Document> FakeClient::Patch(const Resource& resource, std::string_view ns,
                                                      std::string_view name, PatchType type,
                                                      std::string_view patch,
                                                      const PatchOptions& options) {
  LK_RETURN_IF_ERROR(BeginCall("Patch"));
  LK_ASSIGN_OR_RETURN(rapidjson::Document patch_doc, json::Parse(patch));
  absl::MutexLock lock(&mu_);
  Key key{resource.namespaced ? std::string(ns) : "", std::string(name)};
  ObjectPtr old = FindLocked(resource, key);
  if (old == nullptr) {
    if (type != PatchType::kApply || !options.subresource.empty()) {
      return NotFound(resource, name);
    }
    json::SetString(patch_doc, {"metadata", "name"}, name);  // server-side apply creates
    return CreateLocked(resource, key.first, patch_doc, options.dry_run);
  }
  rapidjson::Document result = json::Copy(*old);
  if (type == PatchType::kJsonPatch) {
    LK_RETURN_IF_ERROR(ApplyJsonPatch(result, patch_doc));
  } else {
    ApplyMergePatch(result, patch_doc);
  }
  return UpdateLocked(resource, key, result, options.subresource, options.dry_run);
}

absl::Status FakeClient::Delete(const Resource& resource, std::string_view ns,
                                std::string_view name, const DeleteOptions& options) {
  LK_RETURN_IF_ERROR(BeginCall("Delete"));
  absl::MutexLock lock(&mu_);
  Key key{resource.namespaced ? std::string(ns) : "", std::string(name)};
  ObjectPtr old = FindLocked(resource, key);
  if (old == nullptr) return NotFound(resource, name);
  std::string_view uid = json::GetString(*old, {"metadata", "uid"});
  if (!options.precondition_uid.empty() && options.precondition_uid != uid) {
    return Conflict(resource, name,
                    absl::StrCat("Precondition failed: UID in precondition: ",
                                 options.precondition_uid, ", UID in object meta: ", ToAbsl(uid)));
  }
  std::string rv = RvOf(*old);
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != rv) {
    return Conflict(resource, name,
                    absl::StrCat("Precondition failed: ResourceVersion in precondition: ",
                                 options.precondition_resource_version,
                                 ", ResourceVersion in object meta: ", rv));
  }
  if (options.dry_run) return absl::OkStatus();
  if (!HasFinalizers(*old)) {
    RemoveLocked(resource, key, json::Copy(*old));
    return absl::OkStatus();
  }
  if (json::Find(*old, {"metadata", "deletionTimestamp"}) == nullptr) {
    rapidjson::Document updated = json::Copy(*old);
    json::SetString(updated, {"metadata", "deletionTimestamp"}, Timestamp());
    json::SetInt(updated, {"metadata", "deletionGracePeriodSeconds"}, 0);
    CommitUpdate(resource, key, std::move(updated));
  }
  return absl::OkStatus();
}

absl::StatusOr<rapidjson::Document> FakeClient::CreateSubresource(const Resource& resource,
                                                                  std::string_view ns,
                                                                  std::string_view name,
                                                                  std::string_view subresource,
                                                                  const rapidjson::Value& body) {
  LK_RETURN_IF_ERROR(BeginCall("CreateSubresource"));
  SubresourceHandler handler;
  {
    absl::MutexLock lock(&mu_);
    handler = subresource_handler_;
  }
  if (!handler) {
    return absl::UnimplementedError(
        absl::StrCat("FakeClient has no handler for subresource \"", ToAbsl(subresource), "\""));
  }
  return handler(resource, ns, name, subresource, body);
}

}  // namespace labkube::kube::testing
