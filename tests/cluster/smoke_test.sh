#!/usr/bin/env bash
# Smoke test of a running local lab (tests/cluster/cluster.sh up): the 4 fake nodes are Ready with
# their nvidia.com/gpu capacity, the real scheduler places a Pod, kwok runs it, and deleting its
# namespace really removes it. Prints `PASS smoke` on success, exits non-zero with a reason otherwise.
# SMOKE_TIMEOUT: seconds allowed for each wait (default 60).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$here/cluster.sh" env)"
timeout=${SMOKE_TIMEOUT:-60}
ns=smoke-$(date +%s)-$RANDOM

kubectl() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }
fail() {
  printf 'FAIL smoke: %s\n' "$*" >&2
  exit 1
}

# poll DESCRIPTION DIAGNOSE COMMAND...: retries COMMAND until it succeeds or $timeout seconds
# pass; on timeout runs DIAGNOSE (a function name, or "true") to show the state.
poll() {
  local what=$1 diagnose=$2 deadline=$((SECONDS + timeout))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      "$diagnose" >&2 || true
      fail "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.2
  done
}

cleanup() { kubectl delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }

check_nodes() {
  local want got
  want=$'cpu-a True \ndgx-1 True 8\ngpu-3090-a True 2\ngpu-3090-b True 2'
  got=$(kubectl get nodes -o 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} {.status.capacity.nvidia\.com/gpu}{"\n"}{end}' |
    sort) || fail "kubectl get nodes failed (is the cluster up? tests/cluster/cluster.sh status)"
  [[ $got == "$want" ]] || fail "nodes: want
$want
got
$got"
}

describe_pod() { kubectl get pod smoke -n "$ns" -o wide; kubectl get events -n "$ns"; }
describe_ns() { kubectl get namespace "$ns" -o yaml; kubectl get pods -n "$ns" -o wide; }
pod_running() { [[ $(kubectl get pod smoke -n "$ns" -o 'jsonpath={.status.phase}') == Running ]]; }
pod_gone() { ! kubectl get pod smoke -n "$ns" 2>/dev/null; }
namespace_gone() { ! kubectl get namespace "$ns" 2>/dev/null; }

main() {
  check_nodes
  trap cleanup EXIT
  kubectl create namespace "$ns" >/dev/null || fail "cannot create namespace $ns"
  # The ServiceAccount admission plugin rejects pods until the controller-manager made it.
  poll "ServiceAccount $ns/default" true kubectl get serviceaccount default -n "$ns"
  kubectl apply -n "$ns" -f - >/dev/null <<'EOF' || fail "cannot create pod"
apiVersion: v1
kind: Pod
metadata:
  name: smoke
spec:
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.10
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {cpu: 10m, memory: 16Mi}
EOF
  poll "pod $ns/smoke to be Running" describe_pod pod_running
  local node
  node=$(kubectl get pod smoke -n "$ns" -o 'jsonpath={.spec.nodeName}')
  [[ $node =~ ^(gpu-3090-a|gpu-3090-b|dgx-1|cpu-a)$ ]] || fail "pod landed on unexpected node '$node'"
  # No kubelet: kwok's pod-delete stage must finish the graceful deletion.
  kubectl delete pod smoke -n "$ns" --wait=false >/dev/null || fail "cannot delete pod"
  poll "pod $ns/smoke to disappear" describe_pod pod_gone
  # Deleting the namespace first would also work, but the namespace controller then waits
  # terminationGracePeriodSeconds/2+1 s (16 s) per pass while pods remain.
  kubectl delete namespace "$ns" --wait=false >/dev/null || fail "cannot delete namespace $ns"
  poll "namespace $ns to disappear" describe_ns namespace_gone
  trap - EXIT
  echo "smoke: pod ran on $node, pod and namespace deleted" >&2
  echo "PASS smoke"
}
main "$@"
