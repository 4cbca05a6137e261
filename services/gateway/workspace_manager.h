// WorkspaceManager: the gateway's workspace calls as reads and writes of Workspace objects
// (workspace_object.h) in a member's namespace; the WorkspaceController makes them real and
// writes their status, so kubectl or GitOps may write the same objects.
//   Start    checks the input (fields named in errors), resolves the machine type against the
//            scheduler's list (NOT_FOUND lists the valid ones), mounts the member's storage and
//            creates the Workspace (ALREADY_EXISTS for a duplicate). It waits up to token_wait
//            for the controller's token Secret, to answer with the token.
//   Stop     deletes the Workspace (its objects follow: garbage collection of owned objects);
//            answers the Workspace and the objects that go with it.
//   Describe spec and status of the Workspace, the token, age. Concurrent callers share one
//            read; running/failed answers are also reused for `describe_cache` (callers polling
//            one workspace cost the API server one read per period, not one each); Start and
//            Stop invalidate them.
//   Watch    polls Describe and reports each change until the callback says stop or the
//            workspace is gone (last report: PHASE_STOPPED).
//
// Ownership: borrows the client, availability, storage manager and clock.
// Thread safety: safe from many threads (its only state is the thread-safe Describe cache).
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/shared_result_cache.h"
#include "services/gateway/access.h"
#include "services/gateway/availability.h"
#include "services/gateway/storage_manager.h"
#include "services/gateway/workspace_object.h"
#include "services/gateway/workspace_spec.h"

namespace labkube::gateway {

namespace gw = ::labkube::gateway::v1alpha1;

class WorkspaceManager {
 public:
  WorkspaceManager(kube::Client& client, Availability& availability, StorageManager& storage,
                   Clock& clock, WorkspaceOptions options);

  absl::StatusOr<gw::Workspace> Start(const Target& target, const gw::StartWorkspaceRequest& r);
  // Returns "Kind/name" of each deleted object; kNotFound when there was nothing.
  absl::StatusOr<std::vector<std::string>> Stop(const Target& target, std::string_view name);
  absl::StatusOr<std::vector<gw::Workspace>> List(const Target& target);
  absl::StatusOr<gw::Workspace> Describe(const Target& target, std::string_view name);
  // Calls `on_change` with the workspace now and after each change of phase, reason, message
  // or node, until it returns false or `stop()` is true (checked every poll). Ends OK after
  // reporting PHASE_STOPPED when the workspace disappears; kNotFound if it never existed.
  absl::Status Watch(const Target& target, std::string_view name,
                     const std::function<bool(const gw::Workspace&)>& on_change,
                     const std::function<bool()>& stop);

 private:
  absl::Status CheckStart(const gw::StartWorkspaceRequest& r) const;
  // The member's view of Workspace object `o`, with its token (read from its Secret).
  gw::Workspace View(const Target& target, const rapidjson::Value& o);
  std::string WaitForToken(const Target& target, std::string_view name);

  kube::Client& client_;
  Availability& availability_;
  StorageManager& storage_;
  Clock& clock_;
  const WorkspaceOptions options_;
  SharedResultCache<gw::Workspace> describe_cache_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_MANAGER_H_
