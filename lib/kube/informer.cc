#include "lib/kube/informer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/kube/json.h"

namespace labkube::kube {
namespace {

std::vector<std::string> NamespaceValues(const rapidjson::Value& object) {
  std::string_view ns = json::GetString(object, {"metadata", "namespace"});
  if (ns.empty()) return {};
  return {std::string(ns)};
}

std::vector<std::string> LabelValues(const rapidjson::Value& object) {
  std::vector<std::string> values;
  const rapidjson::Value* labels = json::Find(object, {"metadata", "labels"});
  if (labels == nullptr || !labels->IsObject()) return values;
  for (const auto& m : labels->GetObject()) {
    if (!m.value.IsString()) continue;
    values.push_back(absl::StrCat(ToAbsl(json::View(m.name)), "=", ToAbsl(json::View(m.value))));
  }
  return values;
}

std::string_view ResourceVersionOf(const rapidjson::Value& object) {
  return json::GetString(object, {"metadata", "resourceVersion"});
}

}  // namespace

Informer::Informer(Client& client, const Resource& resource, ReflectorOptions options, Clock& clock)
    : clock_(clock), reflector_(client, resource, std::move(options), *this, clock) {
  AddIndex(std::string(kNamespaceIndex), NamespaceValues);
  AddIndex(std::string(kLabelIndex), LabelValues);
}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandlers(EventHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::AddIndex(std::string name, IndexFunc index) {
  absl::MutexLock lock(&mu_);
  indexes_[std::move(name)] = Index{std::move(index), {}};
}

void Informer::Start() {
  dispatcher_ = std::thread([this] { Dispatch(); });
  reflector_.Start();
}

void Informer::Stop() {
  reflector_.Stop();
  {
    absl::MutexLock lock(&mu_);
    stop_dispatcher_ = true;
  }
  if (dispatcher_.joinable()) dispatcher_.join();
}

bool Informer::HasSynced() {
  absl::MutexLock lock(&mu_);
  return synced_;
}

bool Informer::WaitForSync(absl::Time deadline) {
  absl::Duration timeout = deadline - clock_.Now();
  absl::MutexLock lock(&mu_);
  return clock_.AwaitWithTimeout(mu_, absl::Condition(&synced_), timeout);
}

std::string Informer::KeyOf(const rapidjson::Value& object) {
  std::string_view ns = json::GetString(object, {"metadata", "namespace"});
  std::string_view name = json::GetString(object, {"metadata", "name"});
  if (ns.empty()) return std::string(name);
  return absl::StrCat(ToAbsl(ns), "/", ToAbsl(name));
}

ObjectPtr Informer::Get(std::string_view ns, std::string_view name) {
  std::string key = ns.empty() ? std::string(name) : absl::StrCat(ToAbsl(ns), "/", ToAbsl(name));
  absl::MutexLock lock(&mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List() {
  absl::MutexLock lock(&mu_);
  std::vector<ObjectPtr> objects;
  objects.reserve(items_.size());
  for (const auto& [key, object] : items_) objects.push_back(object);
  return objects;
}

std::vector<ObjectPtr> Informer::ByIndex(std::string_view index, std::string_view value) {
  absl::MutexLock lock(&mu_);
  std::vector<ObjectPtr> objects;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return objects;
  auto keys = idx->second.keys.find(value);
  if (keys == idx->second.keys.end()) return objects;
  for (const std::string& key : keys->second) objects.push_back(items_.at(key));
  return objects;
}

void Informer::IndexLocked(const std::string& key, const rapidjson::Value& object, bool add) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.func(object)) {
      if (add) {
        index.keys[value].insert(key);
        continue;
      }
      auto it = index.keys.find(value);
      if (it == index.keys.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.keys.erase(it);
    }
  }
}

void Informer::Enqueue(NotificationType type, ObjectPtr old_object, ObjectPtr object) {
  queue_.push_back(Notification{type, std::move(old_object), std::move(object)});
}

void Informer::UpsertLocked(const std::string& key, ObjectPtr object) {
  auto it = items_.find(key);
  if (it == items_.end()) {
    IndexLocked(key, *object, /*add=*/true);
    items_.emplace(key, object);
    Enqueue(NotificationType::kAdd, nullptr, std::move(object));
    return;
  }
  ObjectPtr old = std::move(it->second);
  IndexLocked(key, *old, /*add=*/false);
  IndexLocked(key, *object, /*add=*/true);
  it->second = object;
  if (ResourceVersionOf(*old) != ResourceVersionOf(*object)) {
    Enqueue(NotificationType::kUpdate, std::move(old), std::move(object));
  }
}

void Informer::Replace(std::vector<ObjectPtr> objects, const std::string& resource_version) {
  std::map<std::string, ObjectPtr, std::less<>> next;
  for (ObjectPtr& object : objects) next[KeyOf(*object)] = std::move(object);
  absl::MutexLock lock(&mu_);
  for (auto it = items_.begin(); it != items_.end();) {
    if (next.count(it->first) != 0) {
      ++it;
      continue;
    }
    IndexLocked(it->first, *it->second, /*add=*/false);
    Enqueue(NotificationType::kDelete, nullptr, std::move(it->second));
    it = items_.erase(it);
  }
  for (auto& [key, object] : next) UpsertLocked(key, std::move(object));
  if (!sync_queued_) {
    sync_queued_ = true;
    Enqueue(NotificationType::kSynced, nullptr, nullptr);
  }
}

void Informer::Add(ObjectPtr object) {
  std::string key = KeyOf(*object);
  absl::MutexLock lock(&mu_);
  UpsertLocked(key, std::move(object));
}

void Informer::Update(ObjectPtr object) { Add(std::move(object)); }

void Informer::Delete(ObjectPtr object) {
  std::string key = KeyOf(*object);
  absl::MutexLock lock(&mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return;
  IndexLocked(key, *it->second, /*add=*/false);
  items_.erase(it);
  Enqueue(NotificationType::kDelete, nullptr, std::move(object));
}

void Informer::Dispatch() {
  while (true) {
    Notification n;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_dispatcher_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_dispatcher_) return;
      n = std::move(queue_.front());
      queue_.pop_front();
      if (n.type == NotificationType::kSynced) {
        synced_ = true;
        continue;
      }
    }
    Deliver(n);
  }
}

void Informer::Deliver(const Notification& n) {
  for (const EventHandlers& h : handlers_) {
    switch (n.type) {
      case NotificationType::kAdd:
        if (h.on_add) h.on_add(n.object);
        break;
      case NotificationType::kUpdate:
        if (h.on_update) h.on_update(n.old_object, n.object);
        break;
      case NotificationType::kDelete:
        if (h.on_delete) h.on_delete(n.object);
        break;
      case NotificationType::kSynced:
        break;
    }
  }
}

}  // namespace labkube::kube
