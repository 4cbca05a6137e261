// The contract between labkube's services and the objects they mark: every label, annotation,
// finalizer and taint key labkube spells (everything under labkube.io/, and the shared
// app.kubernetes.io/managed-by key) is spelled here, once; code elsewhere names these constants.
// k8s/ manifests (and k8s/policy/guest-integrity.yaml, in CEL) restate the same names: keep them
// equal. Values are part of the wire contract with existing clusters: never change one.
// Constants only, owned by no one; thread-safe.
#ifndef LABKUBE_LIB_CONTRACT_H_
#define LABKUBE_LIB_CONTRACT_H_

namespace labkube::contract {

// Every key labkube owns starts with this; members may not add, change or remove such keys on
// pods after creation (k8s/policy/guest-integrity.yaml).
inline constexpr char kPrefix[] = "labkube.io/";

// Pod labels a member sets to ask for a slot.
inline constexpr char kRoleLabel[] = "labkube.io/pod-role";
inline constexpr char kRoleGuest[] = "guest";
inline constexpr char kRoleReservation[] = "reservation";
inline constexpr char kGroupLabel[] = "labkube.io/machine-group";
inline constexpr char kTypeLabel[] = "labkube.io/machine-type";
// Pod label naming the container that gets the slot's resources (else the first one): the
// gateway sets it on workspaces, the injector reads it.
inline constexpr char kInjectingContainerLabel[] = "labkube.io/injecting-container";

// Pod annotations the scheduler's claim puts on a guest (through the injector's patch).
inline constexpr char kClaimAnnotation[] = "labkube.io/claim";
inline constexpr char kNodeAnnotation[] = "labkube.io/node";
// The scheduler's signature over the claim, the pod's namespace and name, group, type and node
// (claim_signer.h): only a pod carrying a valid one counts as a guest.
inline constexpr char kClaimSignatureAnnotation[] = "labkube.io/claim-signature";

// A guest that finds no free slot waits in line (services/scheduler/queue.h): the injector admits
// it with this scheduling gate (so kube-scheduler leaves it alone), the type's resources and
// affinity, and a queue ticket; the scheduler hands it a slot by adding the claim annotations,
// narrowing its node affinity to the slot's node and removing the gate. Members may not remove
// the gate themselves (k8s/policy/guest-integrity.yaml).
inline constexpr char kQueueGate[] = "labkube.io/queue";
// The scheduler's signature over the waiting pod's namespace, name (or generateName + "*"),
// group and type: only a pod carrying a valid one waits in labkube's queue.
inline constexpr char kQueueTicketAnnotation[] = "labkube.io/queue-ticket";
// For people reading the pod: "<group>/<type>" it waits for.
inline constexpr char kWaitingAnnotation[] = "labkube.io/waiting";

// The claim id of a dry-run answer: it holds no slot and is never signed.
inline constexpr char kDryRunClaim[] = "dry-run";

// Label and taint (NoSchedule) of the nodes that run labkube's own pods (the local lab's real
// node; k8s/overlays/local-lab). An admin's mark, not the scheduler's: it never touches it.
inline constexpr char kSystemNodeLabel[] = "labkube.io/system-node";

// Label on the scheduler leader's own pod; the scheduler Service selects it (k8s/scheduler).
inline constexpr char kSchedulerLeaderLabel[] = "labkube.io/scheduler-leader";

// Node marks the scheduler keeps (services/scheduler/node_labels.h): a label and a NoSchedule
// taint kPrefix + <type> = <group> per machine type, this pool label (ready | maintenance |
// not-ready), and kGroupLabel's key as a node annotation naming the node's machine group.
inline constexpr char kNodePoolLabel[] = "labkube.io/node-pool";

// The finalizer older schedulers put on Machines; the scheduler now only takes it off
// (services/scheduler/reconciler.h).
inline constexpr char kCleanupFinalizer[] = "labkube.io/cleanup";

// Namespace label that turns the injector on for a namespace.
inline constexpr char kInjectLabel[] = "labkube.io/inject-resource";
inline constexpr char kInjectEnabled[] = "enabled";

// Members (the authenticator creates them, the gateway and the authenticator read them): the
// member's namespace and ServiceAccount carry kUserLabel=<member>; an admin's ServiceAccount
// also kAdminLabel=true.
inline constexpr char kUserLabel[] = "labkube.io/user";
inline constexpr char kAdminLabel[] = "labkube.io/admin";
// ServiceAccount label (=enabled) that lets an admin issue kubeconfigs for it (authenticator).
inline constexpr char kKubeconfigLabel[] = "labkube.io/kubeconfig";

// Kubernetes' recommended label naming the labkube service that created an object, and its
// values: members' namespaces, ServiceAccounts, quotas and session Secrets (authenticator);
// members' storage and workspaces (gateway).
inline constexpr char kManagedByLabel[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByAuthenticator[] = "labkube-authenticator";
inline constexpr char kManagedByGateway[] = "labkube-gateway";

// Objects the gateway creates for a member's workspaces and storage.
inline constexpr char kComponentLabel[] = "labkube.io/component";  // storage | workspace
inline constexpr char kWorkspaceLabel[] = "labkube.io/workspace";
inline constexpr char kWorkspaceKindLabel[] = "labkube.io/workspace-kind";
inline constexpr char kVolumeLabel[] = "labkube.io/volume";     // cephfs | nfs
inline constexpr char kStorageRoleLabel[] = "labkube.io/role";  // backup (the backup job's pods)
inline constexpr char kUrlAnnotation[] = "labkube.io/url";      // on a workspace's Deployment
// Workspace resources (k8s/crds/workspaces.labkube.io.yaml) and the gateway's workspace
// controller: the Deployment annotation holding a digest of the spec it was built from (a
// changed digest means the Workspace changed: the Deployment is rewritten), and the conditions
// the controller writes on a Workspace (Provisioned: its four objects exist and are its own;
// Ready: its pod is Ready).
inline constexpr char kWorkspaceSpecAnnotation[] = "labkube.io/workspace-spec";
inline constexpr char kWorkspaceProvisionedCondition[] = "Provisioned";
inline constexpr char kWorkspaceReadyCondition[] = "Ready";

// The audience of the access tokens labkube issues at login, besides the API server's own:
// the gateway (and the authenticator's admin calls) accept only tokens issued for it, so a
// pod's ordinary ServiceAccount token is refused there.
inline constexpr char kGatewayAudience[] = "labkube.io/gateway";

// absl::Status payload type URL labctl puts on errors it raised itself, before any call
// (clients/cli/exit_codes.h); never sent over the wire.
inline constexpr char kLocalErrorPayload[] = "labkube.io/labctl-local";

// gRPC metadata the gateway's web page sets on its in-process calls to the gateway: the IP
// address of the browser's HTTP connection, which the gateway forwards to the authenticator
// (its per-address lockout) instead of its own. Honoured from in-process peers only.
inline constexpr char kWebClientAddressMetadata[] = "labkube-web-client-address";

}  // namespace labkube::contract

#endif  // LABKUBE_LIB_CONTRACT_H_
