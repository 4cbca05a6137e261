// Reflector: keeps a local view of one resource (a namespace or all, filtered by label/field
// selectors) up to date by the list+watch protocol, and reports what it sees to a ReflectorSink.
//
//   1. Lists all objects (pages of `page_size`) and delivers them with Sink::Replace(objects, rv).
//   2. Watches from that resourceVersion (with bookmarks) and delivers Add/Update/Delete in
//      server order; bookmarks only advance the resourceVersion.
//   3. When a watch ends (server timeout, CloseWatches, connection drop), it watches again from
//      the last resourceVersion seen. When the server says that version is gone (kOutOfRange,
//      410 Gone), it relists (1.), so the sink learns about everything missed - including
//      deletes - through Replace.
//   4. Other errors back off on the injected Clock: initial_backoff, doubling to max_backoff,
//      with up to +50% jitter; back to initial_backoff after a watch that delivered an event or
//      ended normally. The relist after 410 Gone is immediate, unless the previous relist also
//      ended in 410 with no event in between (then it backs off too).
//
// Stop latency: Stop() interrupts backoff waits at once, and a watch through
// WatchOptions::should_stop, which the client polls while the stream is idle and before each
// event (RestClient: about once a second; FakeClient: every 10 ms). A list in progress is not
// interrupted (one HTTP round trip per page). Watch requests ask for a `watch_timeout` (60 s)
// server timeout with bookmarks, so a client that ignored should_stop would still return within
// that bound.
//
// Ownership: the client, resource, sink and clock are borrowed and must outlive the Reflector.
// Threading: Start() runs the loop on a thread owned by the Reflector; all Sink calls come from
// that thread, one at a time. Start/Stop from one controlling thread; the other accessors are
// safe from any thread. The destructor calls Stop().
#ifndef LABKUBE_LIB_KUBE_REFLECTOR_H_
#define LABKUBE_LIB_KUBE_REFLECTOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/compact_object.h"
#include "lib/kube/resource.h"
#include "rapidjson/document.h"

namespace labkube::kube {

// Receives what a Reflector sees. Called from the reflector thread only, one call at a time.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // The complete current state after a (re)list, at `resource_version`.
  virtual void Replace(std::vector<ObjectPtr> objects, const std::string& resource_version) = 0;
  virtual void Add(ObjectPtr object) = 0;
  virtual void Update(ObjectPtr object) = 0;
  // `object` is the last state of the deleted object.
  virtual void Delete(ObjectPtr object) = 0;
};

struct ReflectorOptions {
  std::string ns;  // "" = all namespaces (ignored for cluster-scoped resources)
  std::string label_selector;
  std::string field_selector;
  // The fields kept of each object (compact_object.h: metadata always, managedFields never);
  // empty keeps everything. Every object is a compact copy of its own either way.
  FieldMask fields;
  int64_t page_size = 500;
  absl::Duration watch_timeout = absl::Seconds(60);
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
};

class Reflector {
 public:
  Reflector(Client& client, const Resource& resource, ReflectorOptions options, ReflectorSink& sink,
            Clock& clock = Clock::Real());
  ~Reflector();

  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Starts the list+watch loop on a new thread. Call at most once.
  void Start();
  // Stops the loop and joins the thread (see "Stop latency" above). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // True once the first list has been delivered with Replace().
  bool HasSynced() const { return synced_.load(); }
  // The resourceVersion of the last list, event or bookmark delivered ("" before the first).
  std::string LastResourceVersion() ABSL_LOCKS_EXCLUDED(mu_);
  // The status of the last failed list or watch (OK if none failed yet); for diagnostics.
  absl::Status LastError() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // Lists all pages and calls sink.Replace.
  absl::Status ListAndReplace();
  // One watch request from the last resourceVersion. Sets `progressed` when an event arrived.
  absl::Status WatchOnce(bool& progressed);
  // Handles one watch event; returns false to end the watch (stop, or an ERROR event).
  bool HandleEvent(WatchEvent&& event, absl::Status& error);
  // The object as the sink gets it: a compact copy reduced to options_.fields.
  ObjectPtr Keep(const rapidjson::Value& object) const;
  // Waits the next backoff interval unless stopped first; returns false when stopped.
  bool Backoff() ABSL_LOCKS_EXCLUDED(mu_);
  void SetResourceVersion(std::string rv) ABSL_LOCKS_EXCLUDED(mu_);
  bool stopping() const { return stopping_.load(); }

  Client& client_;
  const Resource& resource_;
  const std::string api_version_;  // resource_.ApiVersion(), set on list items without one
  const ReflectorOptions options_;
  ReflectorSink& sink_;
  Clock& clock_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  absl::Duration backoff_;  // reflector thread only
  absl::BitGen random_;     // reflector thread only

  absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;  // mirrors stopping_ for Await
  std::string resource_version_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_REFLECTOR_H_
