// WorkspaceController: makes every Workspace object (workspace_object.h) real. For each one in a
// member namespace (<prefix><member>) it creates what is missing of the Deployment ws-<name>,
// Service ws-<name>, Ingress ws-<name> and Secret ws-<name>-token (workspace_spec.h), all
// controlled by the Workspace (ownerReferences: deleting the Workspace lets Kubernetes' garbage
// collector delete them), rewrites the Deployment when the Workspace's spec changed (its
// digest annotation differs), and writes the Workspace's status from them (phase by
// workspace_status.h, node, GPU of the machine type, URL, conditions Provisioned and Ready,
// observedGeneration). A Workspace whose objects were only partly made (a controller that died
// half way) is finished the same way; a child deleted by hand is made again.
//
// It reconciles a Workspace after any change of it or of its labelled children (informers on
// Workspaces, and on workspace Deployments, Services, Ingresses and Pods by label), after a
// failure (retry_after), and every Workspace every `resync` (Secrets are not watched: a deleted
// token Secret comes back within `resync`). A workspace whose pod waits in line (gated by
// labkube.io/queue) gets its place, the line's length and the estimated start from the
// scheduler's GetQueue (Availability::Queue, asked once per type per pass), and is reconciled
// again whenever the scheduler's availability changes (a handover, a new or departed waiting
// pod all change usage), so its place stays current. It acts only while `is_leader()` (one gateway
// replica leads, kube::LeaderElector); followers keep their caches warm.
//
// Ownership: borrows the client, availability and clock; owns its informers and thread.
// Thread safety: Start/Stop from one thread; Reconcile from the loop's thread (or a test's, with
// the loop not started).
#ifndef LABKUBE_SERVICES_GATEWAY_WORKSPACE_CONTROLLER_H_
#define LABKUBE_SERVICES_GATEWAY_WORKSPACE_CONTROLLER_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lib/clock.h"
#include "lib/kube/client.h"
#include "lib/kube/informer.h"
#include "lib/kube/leader_election.h"
#include "services/gateway/availability.h"
#include "services/gateway/workspace_object.h"
#include "services/gateway/workspace_spec.h"

namespace labkube::gateway {

struct WorkspaceControllerOptions {
  std::string namespace_prefix = "lab-";
  std::string settings_config_map = "labkube-settings";
  absl::Duration resync = absl::Seconds(30);
  absl::Duration retry_after = absl::Seconds(2);
  // ElectedWorkspaceController: the Lease one gateway replica holds to lead; identity "" =
  // <hostname>-<pid>. enabled = false: no controller in this process (another runs it).
  bool enabled = true;
  std::string lease_namespace = "labkube-system";
  std::string lease_name = "labkube-gateway-workspaces";
  std::string identity;
};

class WorkspaceController {
 public:
  WorkspaceController(kube::Client& client, Availability& availability, Clock& clock,
                      std::function<bool()> is_leader, WorkspaceOptions workspaces,
                      WorkspaceControllerOptions options);
  ~WorkspaceController();
  WorkspaceController(const WorkspaceController&) = delete;
  WorkspaceController& operator=(const WorkspaceController&) = delete;

  // Starts the informers and the loop. Call at most once.
  void Start();
  // True once every informer has listed its objects (by `deadline`).
  bool WaitForSync(absl::Time deadline);
  bool HasSynced();
  // Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // One pass over Workspace `ns`/`name` as the informers see it now: provisions its objects and
  // writes its status. OK when there is nothing to do (no such Workspace, being deleted).
  absl::Status Reconcile(const std::string& ns, const std::string& name);

 private:
  // What the Workspace asks for, resolved (member, group, image, routes); `reason` says why not.
  struct Desired;

  void Enqueue(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  void EnqueueOwner(const kube::ObjectPtr& child);
  void WatchChildren(kube::Informer& informer);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for queued keys; empty when stopping or none came.
  std::set<std::string> Take(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  bool Stopping() ABSL_LOCKS_EXCLUDED(mu_);

  Desired Resolve(const rapidjson::Value& workspace);
  // Creates what is missing (and rewrites a changed Deployment); `deployment` is set to the
  // Deployment as it now is (nullptr when it could not be made).
  absl::Status Provision(const Desired& d, kube::ObjectPtr& deployment);
  absl::Status EnsureChild(const kube::Resource& resource, kube::Informer* cache,
                           const Desired& d, const rapidjson::Document& object);
  absl::Status EnsureDeployment(const Desired& d, kube::ObjectPtr& deployment);
  WorkspaceStatus Observe(const Desired& d, const kube::ObjectPtr& deployment);
  // Adds the place in line of `pod` (queue fields and message) when the scheduler answers.
  void AddPlaceInLine(const Desired& d, const std::string& pod, WorkspaceStatus& s);
  absl::Status ReconcileOne(const std::string& ns, const std::string& name);
  // Keys of Workspaces whose status says they wait in line.
  std::set<std::string> InLine();
  absl::Status WriteStatus(const rapidjson::Value& workspace, WorkspaceStatus next);

  kube::Client& client_;
  Availability& availability_;
  Clock& clock_;
  const std::function<bool()> is_leader_;
  const WorkspaceOptions workspaces_options_;
  const WorkspaceControllerOptions options_;
  kube::Informer workspaces_;
  kube::Informer deployments_;
  kube::Informer services_;
  kube::Informer ingresses_;
  kube::Informer pods_;
  std::map<std::string, absl::Time> retry_;  // loop thread only: failed keys -> when
  // Reconcile's thread only: the lines asked for in this pass, by group/type.
  std::map<std::string, absl::StatusOr<gw::Queue>> lines_;

  absl::Mutex mu_;
  std::set<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The controller as the gateway runs it: with a LeaderElector on options.lease_* deciding which
// replica acts. Owns both; Stop (also the destructor) stops the controller, then releases the
// Lease so another replica takes over at once.
class ElectedWorkspaceController {
 public:
  // nullptr (and OK) when !options.enabled.
  static absl::StatusOr<std::unique_ptr<ElectedWorkspaceController>> Start(
      kube::Client& client, Availability& availability, Clock& clock, WorkspaceOptions workspaces,
      WorkspaceControllerOptions options);
  ~ElectedWorkspaceController();
  void Stop();

 private:
  ElectedWorkspaceController() = default;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<WorkspaceController> controller_;
};

}  // namespace labkube::gateway

#endif  // LABKUBE_SERVICES_GATEWAY_WORKSPACE_CONTROLLER_H_
