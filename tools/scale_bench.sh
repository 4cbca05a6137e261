#!/usr/bin/env bash
# Scheduler at scale, on a control plane of its own: N kwok nodes and M slots, bare pods beside
# labkube's reservation pods, the scheduler's peak RSS and reconcile pass cost, then real claims
# against that lab (services/scheduler/scale_bench.cc prints the table and what it is judged by).
# Builds with -c opt, installs what the scheduler needs (CRDs, namespace, PriorityClass), runs,
# and leaves nothing running. A benchmark, not a test.
#
#   tools/scale_bench.sh [NODES] [SLOTS]      (default 1000 10000: about 9 minutes here)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
nodes=${1:-1000}
slots=${2:-10000}
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
export LABKUBE_STATE=$LABKUBE_CACHE/scale-bench-state
log() { printf '[scale-bench] %s\n' "$*" >&2; }
trap 'tests/cluster/cluster.sh down --purge >/dev/null 2>&1 || true' EXIT

log "building (-c opt) and starting a control plane of its own"
bazel build -c opt --symlink_prefix=/ //services/scheduler:scheduler //services/scheduler:scale_bench >&2
opt=$(bazel info -c opt bazel-bin 2>/dev/null)
tests/cluster/cluster.sh up --quiet >&2
eval "$(tests/cluster/cluster.sh env)"
"$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" apply -f k8s/crds/ -f k8s/base/ >/dev/null
"$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" wait --for=condition=Established \
  crd/machines.labkube.io --timeout=60s >/dev/null
log "running: $nodes nodes, $slots slots"
"$opt/services/scheduler/scale_bench" --kubeconfig="$LABKUBE_KUBECONFIG" \
  --scheduler="$opt/services/scheduler/scheduler" --nodes="$nodes" --pods="$slots"
