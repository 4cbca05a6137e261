// Informer: an in-memory, always-current cache of one resource (a namespace or all, filtered by
// selectors), kept up to date by a Reflector, with indexes and change notifications.
//
//   Informer pods(client, resources::Pods(), options);
//   pods.AddIndex("node", [](const rapidjson::Value& pod) { return {nodeName of pod}; });
//   pods.AddEventHandlers({.on_add = ..., .on_update = ..., .on_delete = ...});
//   pods.Start();
//   if (!pods.WaitForSync(clock.Now() + absl::Seconds(30))) ...;
//   for (const ObjectPtr& pod : pods.ByIndex("node", "n1")) ...
//
// The store maps "namespace/name" ("name" when cluster-scoped) to immutable shared objects, so
// readers keep cheap snapshots. Built-in indexes: kNamespaceIndex (metadata.namespace) and
// kLabelIndex ("key=value" for each label). After a relist (e.g. a watch lost to 410 Gone) the
// informer compares the new list with its store and notifies adds, updates and deletes, so
// handlers never miss a delete that happened while disconnected (the delete then carries the
// last state the informer saw). Updates are notified only when the resourceVersion changed.
//
// Threading: handlers run on one dispatcher thread owned by the informer, in event order, one at
// a time, never under the store lock; they may read the informer (which can already be ahead of
// the event being delivered) but must not call Stop(). HasSynced() turns true after the first
// list is in the store and its adds have been delivered. Register handlers and indexes before
// Start(); everything else is safe from any thread.
// Ownership: client, resource and clock are borrowed and must outlive the informer; the
// destructor calls Stop(). Stop() drops notifications not yet delivered; its latency is the
// reflector's (see reflector.h) plus the running handler's.
#ifndef LABKUBE_LIB_KUBE_INFORMER_H_
#define LABKUBE_LIB_KUBE_INFORMER_H_

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/reflector.h"
#include "lib/kube/resource.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// Any of the functions may be empty. (The `{}` initializers let callers name only some members
// in designated initializers without -Wmissing-field-initializers.)
struct EventHandlers {
  std::function<void(const ObjectPtr& object)> on_add{};
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update{};
  std::function<void(const ObjectPtr& last_state)> on_delete{};
};

class Informer : private ReflectorSink {
 public:
  // Index values of one object (any number, duplicates ignored).
  using IndexFunc = std::function<std::vector<std::string>(const rapidjson::Value& object)>;
  static constexpr std::string_view kNamespaceIndex = "namespace";
  static constexpr std::string_view kLabelIndex = "label";

  Informer(Client& client, const Resource& resource, ReflectorOptions options = {},
           Clock& clock = Clock::Real());
  ~Informer() override;

  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start() only.
  void AddEventHandlers(EventHandlers handlers);
  void AddIndex(std::string name, IndexFunc index);

  // Starts the reflector and the dispatcher threads. Call at most once.
  void Start();
  // Stops both threads and joins them. Idempotent.
  void Stop();

  bool HasSynced() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until HasSynced() or `deadline` (on the informer's clock); returns HasSynced().
  bool WaitForSync(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

  // nullptr when absent.
  ObjectPtr Get(std::string_view ns, std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // All objects, ordered by key.
  std::vector<ObjectPtr> List() ABSL_LOCKS_EXCLUDED(mu_);
  // Objects whose `index` values include `value`, ordered by key; empty for unknown indexes.
  std::vector<ObjectPtr> ByIndex(std::string_view index, std::string_view value)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The reflector's last list/watch error (OK if none yet); for diagnostics.
  absl::Status LastError() { return reflector_.LastError(); }

  // The store key of `object`: "namespace/name", or "name" without a namespace.
  static std::string KeyOf(const rapidjson::Value& object);

 private:
  enum class NotificationType { kAdd, kUpdate, kDelete, kSynced };
  struct Notification {
    NotificationType type;
    ObjectPtr old_object;
    ObjectPtr object;
  };
  struct Index {
    IndexFunc func;
    std::map<std::string, std::set<std::string>, std::less<>> keys;  // value -> keys
  };

  // ReflectorSink (reflector thread).
  void Replace(std::vector<ObjectPtr> objects, const std::string& resource_version) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void Add(ObjectPtr object) override ABSL_LOCKS_EXCLUDED(mu_);
  void Update(ObjectPtr object) override ABSL_LOCKS_EXCLUDED(mu_);
  void Delete(ObjectPtr object) override ABSL_LOCKS_EXCLUDED(mu_);

  // Stores `object`, queueing an add or (if its version changed) an update.
  void UpsertLocked(const std::string& key, ObjectPtr object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void IndexLocked(const std::string& key, const rapidjson::Value& object, bool add)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Enqueue(NotificationType type, ObjectPtr old_object, ObjectPtr object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Dispatch() ABSL_LOCKS_EXCLUDED(mu_);
  void Deliver(const Notification& n);

  Clock& clock_;
  std::vector<EventHandlers> handlers_;  // fixed after Start()
  std::thread dispatcher_;

  absl::Mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> items_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Index, std::less<>> indexes_ ABSL_GUARDED_BY(mu_);
  std::deque<Notification> queue_ ABSL_GUARDED_BY(mu_);
  bool sync_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_dispatcher_ ABSL_GUARDED_BY(mu_) = false;

  Reflector reflector_;  // last: constructed after the store it feeds
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_INFORMER_H_
