// The Kubernetes client interface every labkube service programs against.
//
// It speaks the REST API at the JSON level (RapidJSON documents in and out); typed views of the
// objects labkube reads live in types.h. RestClient (rest_client.h) implements it over HTTPS with
// libcurl; testing/fake_client.h is an in-memory fake of *this interface* for unit tests of
// service logic (integration tests use the real kube-apiserver).
//
// Errors: every method returns an absl::Status whose message carries the API server's Status
// message. HTTP codes map once, in ToStatus() (status.h): 404 NotFound, 409 Conflict on
// update/patch -> kAborted (re-read and retry), 409 AlreadyExists on create -> kAlreadyExists,
// 410 Gone -> kOutOfRange (resourceVersion too old: relist), 422/400 -> kInvalidArgument,
// 401 kUnauthenticated, 403 kPermissionDenied, 429 kResourceExhausted, 5xx and connection
// failures kUnavailable, timeouts kDeadlineExceeded.
//
// Thread safety: implementations are safe to call from many threads at once.
#ifndef LABKUBE_LIB_KUBE_CLIENT_H_
#define LABKUBE_LIB_KUBE_CLIENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/kube/resource.h"
#include "rapidjson/document.h"

namespace labkube::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // "" = most recent (quorum read); "0" = any cached
  std::string continue_token;
  int64_t limit = 0;  // 0 = no paging
};

// One page of a list. `doc` is the whole List object; `items()` its items array.
struct ObjectList {
  rapidjson::Document doc;
  std::string resource_version;
  std::string continue_token;  // "" when this was the last page

  const rapidjson::Value& items() const;
};

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
};

enum class PatchType {
  kJsonPatch,            // application/json-patch+json (RFC 6902)
  kMergePatch,           // application/merge-patch+json (RFC 7386)
  kStrategicMergePatch,  // application/strategic-merge-patch+json
  kApply,                // application/apply-patch+yaml (server-side apply; JSON is YAML)
};

struct PatchOptions {
  std::string field_manager;  // required by the API server for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
  std::string subresource;    // e.g. "status"
  bool dry_run = false;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", "Orphan", "Background" or "Foreground"
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct WatchOptions {
  std::string resource_version;  // start after this version ("" = now, with no initial events)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  absl::Duration timeout = absl::Minutes(5);  // server-side timeoutSeconds
  // Optional: polled about once a second while the stream is idle (and before each event);
  // returning true ends the watch with OK. Lets a caller stop a quiet watch promptly.
  std::function<bool()> should_stop;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type;
  rapidjson::Document object;  // the object (for kError: a metav1.Status)
};

// Return false to stop the watch.
using WatchCallback = std::function<bool(WatchEvent&&)>;

class Client {
 public:
  virtual ~Client() = default;

  // `ns` is ignored for cluster-scoped resources.
  virtual absl::StatusOr<rapidjson::Document> Get(const Resource& resource, std::string_view ns,
                                                  std::string_view name) = 0;
  virtual absl::StatusOr<ObjectList> List(const Resource& resource, std::string_view ns,
                                          const ListOptions& options) = 0;
  virtual absl::StatusOr<rapidjson::Document> Create(const Resource& resource,
                                                     std::string_view ns,
                                                     const rapidjson::Value& object,
                                                     const WriteOptions& options = {}) = 0;
  // PUT; the object's metadata.resourceVersion is the optimistic-concurrency precondition.
  // `subresource` "" or e.g. "status".
  virtual absl::StatusOr<rapidjson::Document> Update(const Resource& resource,
                                                     std::string_view ns, std::string_view name,
                                                     const rapidjson::Value& object,
                                                     std::string_view subresource = "",
                                                     const WriteOptions& options = {}) = 0;
  virtual absl::StatusOr<rapidjson::Document> Patch(const Resource& resource,
                                                    std::string_view ns, std::string_view name,
                                                    PatchType type, std::string_view patch,
                                                    const PatchOptions& options = {}) = 0;
  virtual absl::Status Delete(const Resource& resource, std::string_view ns,
                              std::string_view name, const DeleteOptions& options = {}) = 0;
  // POST to a subresource of a named object: serviceaccounts/NAME/token (TokenRequest),
  // pods/NAME/eviction, ... Cluster-level reviews (TokenReview, SubjectAccessReview) use Create.
  virtual absl::StatusOr<rapidjson::Document> CreateSubresource(
      const Resource& resource, std::string_view ns, std::string_view name,
      std::string_view subresource, const rapidjson::Value& body) = 0;
  // One watch request: calls `on_event` for each event, in order, until the callback returns
  // false (OK), the server ends the stream (OK), or an error (410 Gone -> kOutOfRange).
  // Reconnecting and relisting is the Reflector's job (reflector.h), not this call's.
  virtual absl::Status Watch(const Resource& resource, std::string_view ns,
                             const WatchOptions& options, const WatchCallback& on_event) = 0;
};

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_CLIENT_H_
