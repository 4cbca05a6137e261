// SecretMap: a small string -> string map kept as the data of one Secret (e.g.
// labkube-system/labkube-members), read from memory and written with optimistic concurrency.
//
// Reads: an informer (list+watch of just this Secret) keeps a decoded snapshot up to date, so
// lookups cost no API round trip; Current() returns the newest state seen, either from the
// watch or from this process's own last write (compared by resourceVersion, so a late watch
// event never rolls back a write this process already made). Fetch() reads the Secret from the
// API server (for read-your-writes across replicas, e.g. a key that is not in the cache yet).
// Works without Start() too (one-shot tools): Mutate then reads with a GET.
//
// Writes: Mutate(fn) applies `fn` to a copy of the current data and PUTs the whole Secret with
// the resourceVersion it read as precondition; a conflict (kAborted, another writer got there
// first) re-reads and retries, up to 10 times. Writes from one process are serialized, so
// conflicts only come from other replicas or outside edits. A missing Secret is created.
// Values are stored base64-encoded in `data`, as the API requires.
//
// Ownership: borrows the client and clock (must outlive this object). Thread safety: all methods
// are safe from many threads; Start() once.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_SECRET_MAP_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_SECRET_MAP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/informer.h"

namespace labkube::authenticator {

class SecretMap {
 public:
  using Data = std::map<std::string, std::string, std::less<>>;
  using Snapshot = std::shared_ptr<const Data>;
  using Mutation = std::function<absl::Status(Data& data)>;

  SecretMap(kube::Client& client, Clock& clock, std::string ns, std::string name);
  ~SecretMap();
  SecretMap(const SecretMap&) = delete;
  SecretMap& operator=(const SecretMap&) = delete;

  // Starts the informer (at most once) / stops it (idempotent).
  void Start();
  void Stop();
  bool HasSynced();
  bool WaitForSync(absl::Time deadline);

  // The newest known data (empty before anything was read). Never null.
  Snapshot Current() ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the Secret from the API server (NotFound -> empty) and caches the result.
  absl::StatusOr<Snapshot> Fetch() ABSL_LOCKS_EXCLUDED(mu_);
  // The value of `key`: from Current(), or, when it is missing there and `fallback` is set (or
  // the informer has not synced), from Fetch().
  absl::StatusOr<std::optional<std::string>> Find(const std::string& key, bool fallback = true);

  // Applies `mutate` and writes the result (nothing is written when it returns an error or
  // changes nothing). Returns the data as written. kAborted after too many conflicts.
  absl::StatusOr<Snapshot> Mutate(const Mutation& mutate) ABSL_LOCKS_EXCLUDED(write_mu_, mu_);

  const std::string& ns() const { return ns_; }
  const std::string& name() const { return name_; }

 private:
  struct State {
    bool known = false;   // read at least once
    bool exists = false;  // the Secret exists
    std::optional<int64_t> rv;
    kube::ObjectPtr object;  // the Secret as read (null when it does not exist)
    Snapshot data = std::make_shared<const Data>();
  };

  // Decodes `object` (null: the Secret does not exist) and installs it unless what is
  // installed is newer. Returns the installed state.
  State Install(kube::ObjectPtr object, bool force) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<State> Read() ABSL_LOCKS_EXCLUDED(mu_);
  // One write attempt of `data` over `base`.
  absl::StatusOr<kube::ObjectPtr> Write(const State& base, const Data& data);

  kube::Client& client_;
  const std::string ns_;
  const std::string name_;

  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serializes Mutate within the process
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);

  kube::Informer informer_;  // last: its handlers use the members above
  bool started_ = false;
};

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_SECRET_MAP_H_
