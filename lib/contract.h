// The contract between labkube's services and the objects they mark: every label, annotation
// and value that more than one service (or a manifest's policy) reads is spelled here, once.
// k8s/policy/guest-integrity.yaml restates the same names in CEL: keep them equal.
// Constants only; thread-safe.
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

// Pod annotations the scheduler's claim puts on a guest (through the injector's patch).
inline constexpr char kClaimAnnotation[] = "labkube.io/claim";
inline constexpr char kNodeAnnotation[] = "labkube.io/node";
// The scheduler's signature over the claim, the pod's namespace and name, group, type and node
// (claim_signer.h): only a pod carrying a valid one counts as a guest.
inline constexpr char kClaimSignatureAnnotation[] = "labkube.io/claim-signature";

// The claim id of a dry-run answer: it holds no slot and is never signed.
inline constexpr char kDryRunClaim[] = "dry-run";

// Label and taint (NoSchedule) of the nodes that run labkube's own pods (the local lab's real
// node; k8s/overlays/local-lab). An admin's mark, not the scheduler's: it never touches it.
inline constexpr char kSystemNodeLabel[] = "labkube.io/system-node";

// Label on the scheduler leader's own pod; the scheduler Service selects it (k8s/scheduler).
inline constexpr char kSchedulerLeaderLabel[] = "labkube.io/scheduler-leader";

// Namespace label that turns the injector on for a namespace.
inline constexpr char kInjectLabel[] = "labkube.io/inject-resource";
inline constexpr char kInjectEnabled[] = "enabled";

// The audience of the access tokens labkube issues at login, besides the API server's own:
// the gateway (and the authenticator's admin calls) accept only tokens issued for it, so a
// pod's ordinary ServiceAccount token is refused there.
inline constexpr char kGatewayAudience[] = "labkube.io/gateway";

}  // namespace labkube::contract

#endif  // LABKUBE_LIB_CONTRACT_H_
