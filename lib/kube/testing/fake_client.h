// FakeClient: an in-memory Kubernetes API server behind the Client interface, for unit tests of
// code that programs against Client (integration tests use the real kube-apiserver).
//
// What it does like the real server:
//  - stores objects per (resource, namespace, name); Create fills metadata.uid,
//    resourceVersion (one global counter), generation, creationTimestamp, namespace, kind and
//    apiVersion, and expands generateName; duplicate names -> kAlreadyExists.
//  - Update/Patch with a stale metadata.resourceVersion -> kAborted (409 Conflict). Writes that
//    change nothing keep the resourceVersion. generation grows when anything outside metadata
//    and status changes. Writes to the main resource keep the stored status; the "status"
//    subresource changes only status.
//  - Patch: kMergePatch (RFC 7386), kJsonPatch (RFC 6902: add/remove/replace/test/move/copy).
//    Simplified: kStrategicMergePatch and kApply are applied as merge patches (lists are
//    replaced, not merged by key; no field ownership), and kApply creates missing objects.
//  - Delete: preconditions (uid, resourceVersion) mismatch -> kAborted (409 Conflict). Objects
//    with finalizers get deletionTimestamp and go away when an update empties the finalizers;
//    others go at once (grace periods are ignored; no garbage collection of dependents).
//  - List: label selectors (=, ==, !=, exists, !exists, in, notin), field selectors on any
//    dotted path (=, ==, !=), paging with limit/continue (later pages show the current state;
//    ListOptions.resource_version is ignored: lists are always of the latest state).
//  - Watch: events in order after options.resource_version from a bounded history
//    (SetHistoryLimit, default 1000); older -> kOutOfRange (410 Gone). "" starts at now, "0"
//    first sends ADDED for every current object. Objects that stop/start matching the selectors
//    arrive as DELETED/ADDED. Blocks until the callback returns false, options.should_stop
//    returns true (polled every 10 ms and before each event), CloseWatches(), or
//    options.timeout of real time passes (all return OK).
//    Bookmarks: SendBookmarks() or SetBookmarkInterval() (real time; off by default).
//  - Namespaces are not required to exist; CreateSubresource calls the handler set with
//    SetSubresourceHandler (kUnimplemented without one).
//
// Test controls: InjectError, CloseWatches, CompactHistory, CallCount, ActiveWatches, ...
//
// Ownership: the clock (for creationTimestamp/deletionTimestamp) is borrowed and must outlive
// the fake; destroy the fake only after every call into it has returned.
// Thread safety: all methods are safe to call from many threads at once; watch callbacks run on
// the watching thread without internal locks held (they may call back into the fake).
#ifndef LABKUBE_LIB_KUBE_TESTING_FAKE_CLIENT_H_
#define LABKUBE_LIB_KUBE_TESTING_FAKE_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "rapidjson/document.h"

namespace labkube::kube::testing {

class FakeClient : public Client {
 public:
  using SubresourceHandler = std::function<absl::StatusOr<rapidjson::Document>(
      const Resource& resource, std::string_view ns, std::string_view name,
      std::string_view subresource, const rapidjson::Value& body)>;

  explicit FakeClient(Clock& clock = Clock::Real());

  // Client.
  absl::StatusOr<rapidjson::Document> Get(const Resource& resource, std::string_view ns,
                                          std::string_view name) override;
  absl::StatusOr<ObjectList> List(const Resource& resource, std::string_view ns,
                                  const ListOptions& options) override;
  absl::StatusOr<rapidjson::Document> Create(const Resource& resource, std::string_view ns,
                                             const rapidjson::Value& object,
                                             const WriteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> Update(const Resource& resource, std::string_view ns,
                                             std::string_view name, const rapidjson::Value& object,
                                             std::string_view subresource = "",
                                             const WriteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> Patch(const Resource& resource, std::string_view ns,
                                            std::string_view name, PatchType type,
                                            std::string_view patch,
                                            const PatchOptions& options = {}) override;
  absl::Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                      const DeleteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> CreateSubresource(const Resource& resource,
                                                        std::string_view ns, std::string_view name,
                                                        std::string_view subresource,
                                                        const rapidjson::Value& body) override;
  absl::Status Watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                     const WatchCallback& on_event) override;

  // Makes the next `times` calls of `method` ("Get", "List", "Create", "Update", "Patch",
  // "Delete", "CreateSubresource", "Watch") fail with `status`; times < 0: until
  // ClearInjectedErrors(). Replaces an earlier injection for the same method.
  void InjectError(std::string_view method, absl::Status status, int times = 1);
  void ClearInjectedErrors();
  // How many times `method` was called (including failed calls).
  int CallCount(std::string_view method);
  // Copies of every object passed to Create, in call order, as the caller sent it (before the
  // fake fills the fields the API server sets): what golden tests compare.
  std::vector<rapidjson::Document> CreateBodies();

  // Ends every watch that is active now (their Watch calls return OK).
  void CloseWatches();
  // Watch calls currently blocked in this fake.
  int ActiveWatches();
  // Sends a BOOKMARK at the current resourceVersion to every watch that allows bookmarks.
  void SendBookmarks();
  // Active watches also get a BOOKMARK each `interval` of real time (InfiniteDuration: never).
  void SetBookmarkInterval(absl::Duration interval);
  // Keeps at most `limit` events for watches to resume from.
  void SetHistoryLimit(size_t limit);
  // Forgets all events: a watch or continue token from before now gets kOutOfRange.
  void CompactHistory();
  // The latest resourceVersion handed out.
  std::string CurrentResourceVersion();

  void SetSubresourceHandler(SubresourceHandler handler);

 private:
  using ObjectPtr = std::shared_ptr<const rapidjson::Document>;
  using Key = std::pair<std::string, std::string>;  // (namespace, name)
  using Objects = std::map<Key, ObjectPtr>;

  struct Event {
    int64_t seq;
    int64_t rv;
    WatchEventType type;
    std::string resource;  // ResourceKey(); "" for bookmarks
    ObjectPtr object;      // the new state (the last state for deletes)
    ObjectPtr old;         // the previous state, for kModified
  };
  struct Injected {
    absl::Status status;
    int remaining;
  };
  struct WatchState;

  static std::string ResourceKey(const Resource& resource);
  absl::Status BeginCall(std::string_view method) ABSL_LOCKS_EXCLUDED(mu_);
  ObjectPtr FindLocked(const Resource& resource, const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::StatusOr<rapidjson::Document> CreateLocked(const Resource& resource, std::string ns,
                                                   const rapidjson::Value& object, bool dry_run)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<rapidjson::Document> UpdateLocked(const Resource& resource, const Key& key,
                                                   const rapidjson::Value& object,
                                                   std::string_view subresource, bool dry_run)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores `updated` (which has no new resourceVersion yet) in place of the stored object.
  rapidjson::Document CommitUpdate(const Resource& resource, const Key& key,
                                   rapidjson::Document updated) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes the object for good; `last` is its final state (gets a new resourceVersion).
  rapidjson::Document RemoveLocked(const Resource& resource, const Key& key,
                                   rapidjson::Document last) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AppendEvent(WatchEventType type, std::string resource, ObjectPtr object, ObjectPtr old)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Timestamp() const;

  // Watch helpers (fake_client_watch.cc).
  absl::Status StartWatch(const Resource& resource, const WatchOptions& options, WatchState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Blocks until events, a bookmark tick, a close or the deadline; appends what to deliver.
  // Returns false when the watch is over, kOutOfRange when its events were compacted away.
  absl::StatusOr<bool> NextEvents(WatchState& state, std::vector<WatchEvent>& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Translate(const Event& event, const WatchState& state, std::vector<WatchEvent>& out);

  Clock& clock_;
  absl::Mutex mu_;
  std::vector<rapidjson::Document> create_bodies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Objects> objects_ ABSL_GUARDED_BY(mu_);  // by ResourceKey()
  int64_t rv_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t uid_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Event> history_ ABSL_GUARDED_BY(mu_);
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t compacted_rv_ ABSL_GUARDED_BY(mu_) = 0;  // events up to this rv may be gone
  size_t history_limit_ ABSL_GUARDED_BY(mu_) = 1000;
  int64_t close_generation_ ABSL_GUARDED_BY(mu_) = 0;
  int active_watches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration bookmark_interval_ ABSL_GUARDED_BY(mu_) = absl::InfiniteDuration();
  std::map<std::string, Injected, std::less<>> injected_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int, std::less<>> calls_ ABSL_GUARDED_BY(mu_);
  SubresourceHandler subresource_handler_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::kube::testing

#endif  // LABKUBE_LIB_KUBE_TESTING_FAKE_CLIENT_H_
