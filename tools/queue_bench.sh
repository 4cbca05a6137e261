#!/usr/bin/env bash
# The queue, on a control plane of its own: every slot of a machine type held by a guest and
# WAITING guests in line; handovers one at a time (a guest ends -> the next in line Running on its
# node) and all at once, the scheduler's pass cost, CPU and peak RSS while they wait
# (services/scheduler/queue_bench.cc prints the table and what it is judged by).
# Builds with -c opt, installs what the scheduler needs (CRDs, namespace, PriorityClass), runs,
# and leaves nothing running. A benchmark, not a test.
#
#   tools/queue_bench.sh [SLOTS] [WAITING] [HANDOVERS]   (default 100 1000 200)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
slots=${1:-100}
waiting=${2:-1000}
handovers=${3:-200}
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
export LABKUBE_STATE=$LABKUBE_CACHE/queue-bench-state
log() { printf '[queue-bench] %s\n' "$*" >&2; }
trap 'tests/cluster/cluster.sh down --purge >/dev/null 2>&1 || true' EXIT

log "building (-c opt) and starting a control plane of its own"
bazel build -c opt --symlink_prefix=/ //services/scheduler:scheduler //services/scheduler:queue_bench >&2
opt=$(bazel info -c opt bazel-bin 2>/dev/null)
tests/cluster/cluster.sh up --quiet >&2
eval "$(tests/cluster/cluster.sh env)"
"$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" apply -f k8s/crds/ -f k8s/base/ >/dev/null
"$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" wait --for=condition=Established \
  crd/machines.labkube.io --timeout=60s >/dev/null
log "running: $slots slots, $waiting waiting, $handovers handovers"
"$opt/services/scheduler/queue_bench" --kubeconfig="$LABKUBE_KUBECONFIG" \
  --scheduler="$opt/services/scheduler/scheduler" --slots="$slots" --waiting="$waiting" \
  --handovers="$handovers"
