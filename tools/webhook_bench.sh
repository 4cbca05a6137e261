#!/usr/bin/env bash
# Webhook benchmark with an independent load generator (vegeta: HTTPS keep-alive, a distinct
# AdmissionReview uid per request, Accept-Encoding: gzip like the API server): labkube's injector
# (-c opt) beside a reference server (services/injector/reference_server.cc, the least an HTTPS
# webhook can do on this machine), for non-guest pods and guests (dry-run Claim round trip to the
# scheduler) at 500/s and as fast as they go (8 workers); then the API server's own view of the
# webhook (apiserver_admission_webhook_admission_duration_seconds) over a burst of 1,000 guest
# pod creates (dryRun=All: the webhook and the Claim run, nothing is stored). Prints a table
# beside the targets it is judged by (issue 15). A benchmark, not a test.
#
#   tools/webhook_bench.sh [SECONDS]    (default 10 per run)
#
# Uses a control plane of its own ($LABKUBE_CACHE/bench-state) and the host-process services
# (tools/services.sh) built with -c opt; leaves nothing running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-10}
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
export LABKUBE_STATE=$LABKUBE_CACHE/bench-state
work=$(mktemp -d)
log() { printf '[webhook-bench] %s\n' "$*" >&2; }
ref_pid=""
cleanup() {
  [[ -z $ref_pid ]] || kill "$ref_pid" 2>/dev/null || true
  tools/services.sh down >/dev/null 2>&1 || true
  tests/cluster/cluster.sh down --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log "building (-c opt) and starting the lab's services"
tests/cluster/build-binaries.sh vegeta >&2
bazel build -c opt --symlink_prefix=/ //services/scheduler:scheduler //services/injector:injector \
  //services/injector:load_bench //services/injector:reference_server \
  //services/authenticator:labkube-authenticator //services/gateway:gateway >&2
opt=$(bazel info -c opt bazel-bin 2>/dev/null)
vegeta=$LABKUBE_CACHE/bin/vegeta-$(source tests/cluster/versions.env && upstream_version vegeta)
tests/cluster/cluster.sh up --quiet >&2
eval "$(tests/cluster/cluster.sh env)"
export LABKUBE_KUBECONFIG KUBECTL GRPCURL
LABKUBE_BIN_DIR=$opt LABKUBE_LOCAL_VOLUMES=0 tools/services.sh up >&2
eval "$(tools/services.sh env)"
pki=$LABKUBE_STATE/labkube-pki
client=(-cert "$LABKUBE_STATE/pki/webhook-client.crt" -key "$LABKUBE_STATE/pki/webhook-client.key")
"$opt/services/injector/reference_server" --tls_cert="$pki/server.crt" --tls_key="$pki/server.key" \
  >"$work/ref.out" 2>&1 &
ref_pid=$!
for _ in $(seq 100); do grep -q '^port=' "$work/ref.out" && break; sleep 0.05; done
reference=127.0.0.1:$(sed -n 's/^port=//p' "$work/ref.out")

targets() {  # targets NAME HOST:PORT MODE
  "$opt/services/injector/load_bench" --target="$2" --mode="$3" --vegeta_targets="$work/$1.json" \
    --count=$((seconds * 8000 + 10000)) --type=rtx3090-x1 --group=gpu-machines
}
targets injector-nonguest "$LABKUBE_INJECTOR" nonguest
targets injector-guest "$LABKUBE_INJECTOR" guest
targets reference "$reference" nonguest

# attack NAME RATE -> "p50_ms p99_ms rps success"
attack() {
  local rate=$2 workers=()
  [[ $rate == 0 ]] && workers=(-max-workers=8 -workers=8)
  "$vegeta" attack -format=json -targets="$work/$1.json" -rate="$rate" -duration="${seconds}s" \
    -root-certs="$LABKUBE_CA" "${client[@]}" -keepalive=true -http2=false "${workers[@]}" \
    >"$work/$1-$rate.bin"
  "$vegeta" report -type=json <"$work/$1-$rate.bin" | sed -E \
    's/.*"50th":([0-9]+).*"99th":([0-9]+).*"throughput":([0-9.]+).*"success":([0-9.]+).*/\1 \2 \3 \4/' |
    awk '{printf "%.3f %.3f %.0f %.4f\n", $1 / 1e6, $2 / 1e6, $3, $4}'
}

log "vegeta: ${seconds}s per run"
declare -A r
for t in injector-nonguest injector-guest reference; do
  r[$t-500]=$(attack "$t" 500)
  r[$t-max]=$(attack "$t" 0)
done

# The API server's view: buckets of its webhook histogram before and after 1,000 guest creates.
k() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }
buckets() {
  k get --raw /metrics | grep '^apiserver_admission_webhook_admission_duration_seconds_bucket' |
    grep 'name="injector.labkube.io"' | grep 'type="admit"' |
    sed -E 's/.*le="([^"]+)".* ([0-9.e+]+)$/\1 \2/' || true  # none before the first call
}
k create namespace bench-guests --dry-run=client -o yaml | k apply -f - >/dev/null
k label namespace bench-guests labkube.io/inject-resource=enabled --overwrite >/dev/null
buckets >"$work/before"
pod=$(printf '%s' '{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"bench-","labels":{"labkube.io/pod-role":"guest","labkube.io/machine-group":"gpu-machines","labkube.io/machine-type":"rtx3090-x1"}},"spec":{"containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}' | base64 -w0)
api=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
for _ in $(seq 1000); do
  printf '{"method":"POST","url":"%s/api/v1/namespaces/bench-guests/pods?dryRun=All","body":"%s","header":{"Content-Type":["application/json"]}}\n' "$api" "$pod"
done >"$work/creates.json"
"$vegeta" attack -format=json -targets="$work/creates.json" -rate=200 -duration=5s \
  -root-certs="$LABKUBE_STATE/pki/ca.crt" -cert "$LABKUBE_STATE/pki/admin.crt" \
  -key "$LABKUBE_STATE/pki/admin.key" -keepalive=true >"$work/creates.bin"
creates=$("$vegeta" report -type=json <"$work/creates.bin" | sed -E 's/.*"success":([0-9.]+).*/\1/')
buckets >"$work/after"
# quantile Q: from the bucket deltas (every series of the webhook summed per bound), interpolated
# within the bucket as Prometheus does.
quantile() {
  awk -v before="$work/before" '
    { key = ($1 == "+Inf") ? "1e300" : $1; d[key] += (FILENAME == before ? -$2 : $2) }
    END { for (k in d) print k, d[k] }' "$work/before" "$work/after" | sort -g -k1 |
    awk -v q="$1" '
      { le[NR] = $1 + 0; c[NR] = $2 }
      END {
        total = c[NR]
        if (NR == 0 || total <= 0) { printf "n/a"; exit }
        want = q * total; prev = 0; prevle = 0
        for (i = 1; i <= NR; i++) {
          if (c[i] >= want) {
            if (le[i] >= 1e300) { printf "> %.0f", prevle * 1000; exit }
            printf "%.2f", (prevle + (le[i] - prevle) * (want - prev) / (c[i] - prev)) * 1000; exit
          }
          prev = c[i]; prevle = le[i]
        }
      }'
}
api_p50=$(quantile 0.5) api_p99=$(quantile 0.99)

field() { awk -v n="$2" '{print $n}' <<<"${r[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }
printf '\nwebhook_bench %s, %s s per run, vegeta %s (keep-alive, 8 workers at max)\n' \
  "$(date -u +%F)" "$seconds" "$(source tests/cluster/versions.env && upstream_version vegeta)"
printf '%-34s %10s %10s %10s %9s   %s\n' run p50_ms p99_ms req/s success "judged by"
printf '%-34s %10s %10s %10s %9s   %s\n' \
  "non-guest 500/s (injector)" "$(field injector-nonguest-500 1)" "$(field injector-nonguest-500 2)" "$(field injector-nonguest-500 3)" "$(field injector-nonguest-500 4)" "p99 <= 1 ms" \
  "guest 500/s (injector + Claim)" "$(field injector-guest-500 1)" "$(field injector-guest-500 2)" "$(field injector-guest-500 3)" "$(field injector-guest-500 4)" "p99 <= 3 ms" \
  "reference 500/s" "$(field reference-500 1)" "$(field reference-500 2)" "$(field reference-500 3)" "$(field reference-500 4)" "(the floor)" \
  "non-guest max (injector)" "$(field injector-nonguest-max 1)" "$(field injector-nonguest-max 2)" "$(field injector-nonguest-max 3)" "$(field injector-nonguest-max 4)" ">= 7000/s, >= 90% of reference: $(ratio "$(field injector-nonguest-max 3)" "$(field reference-max 3)")" \
  "guest max (injector + Claim)" "$(field injector-guest-max 1)" "$(field injector-guest-max 2)" "$(field injector-guest-max 3)" "$(field injector-guest-max 4)" ">= 4000/s" \
  "reference max" "$(field reference-max 1)" "$(field reference-max 2)" "$(field reference-max 3)" "$(field reference-max 4)" "(the ceiling)"
printf '%-34s %10s %10s %10s %9s   %s\n' "API server's view, 1000 creates" "$api_p50" "$api_p99" "200" "$creates" "apiserver_admission_webhook_admission_duration_seconds"
