#!/usr/bin/env bash
# labkube developer entry point. See README.md.
#   ./dev.sh up      bring up the local lab (Kubernetes control plane with fake GPU nodes + labkube)
#   ./dev.sh test    set up a fresh machine, build, and run every test; last line "N passed, N failed"
#   ./dev.sh down    stop everything `up` started
#   ./dev.sh deps    install missing Debian packages only
#   ./dev.sh build   bazel build //...
#   ./dev.sh images  one OCI image per service from bazel -c opt (tools/images.sh, docs/images.md)
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
export LABKUBE_STATE=${LABKUBE_STATE:-$LABKUBE_CACHE/state}
mkdir -p "$LABKUBE_CACHE"

DEBIAN_PACKAGES=(
  bazel-bootstrap bazel-rules-java g++ pkg-config openssl ca-certificates curl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libcurl4-openssl-dev rapidjson-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libssl-dev libcrypt-dev
  prometheus-cpp-dev # only lib/metrics_bench: labkube keeps lib/metrics (lib/metrics.h says why)
  clang clang-format libclang-rt-14-dev iproute2 procps
  containerd runc containernetworking-plugins iptables conntrack umoci
  skopeo # with umoci: tools/images.sh
  chromium # the web page's browser test (tests/e2e/web)
)

log() { printf '[dev.sh] %s\n' "$*" >&2; }

cmd_deps() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    ((EUID == 0)) || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v go >/dev/null || { log "Go is needed to build the upstream Kubernetes binaries (golang-go or /usr/local/go)"; exit 1; }
}

cmd_build() { bazel build //...; }

cluster() { tests/cluster/cluster.sh "$@"; }

cmd_up() {
  cmd_deps
  tests/cluster/build-binaries.sh
  cmd_build
  # labkube installed in the lab as an admin installs it: images, a real node, kubectl apply -k.
  tools/lab.sh up
  eval "$(cluster env)"
  eval "$(tools/lab.sh env)"
  cat <<MSG

The local lab is up: labkube runs in pods on the real node $(tests/cluster/node.sh env | sed -n 's/^LABKUBE_NODE_NAME=//p'), beside kwok's GPU nodes. Try:
  export KUBECONFIG=$LABKUBE_KUBECONFIG PATH=$LABKUBE_STATE/bin:\$PATH
  kubectl get nodes -L nvidia.com/gpu.product
  kubectl get machines
  kubectl -n labkube-system get pods -o wide
credentials: $LABKUBE_CREDENTIALS
Log in as the demo member (password in the credentials file):
  $LABCTL login --server $LABKUBE_GATEWAY --ca-file $LABKUBE_CA --username alice --password-stdin
web: $LABKUBE_WEB
  $LABCTL machines
Stop it with: ./dev.sh down
export KUBECONFIG=$LABKUBE_KUBECONFIG
MSG
}

cmd_down() {
  tools/lab.sh down || true
  tools/services.sh down || true
  cluster down "$@"
}

# Runs bazel test with the given args, appending the per-target result lines to $results.
run_bazel_tests() {
  local out rc=0
  out=$(mktemp)
  bazel test "$@" 2>&1 | tee "$out" || rc=$?
  grep -E '^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$out" >>"$results" || true
  # exit 4 = no test targets matched; that is not a failure here.
  if ((rc != 0 && rc != 4)); then
    grep -q '^//' "$out" || echo "//build:bazel_test FAILED (bazel exit $rc)" >>"$results"
  fi
  rm -f "$out"
}

# Script checks ("PASS name..." / "FAIL name...: why" lines on stdin) as result lines //$1:name.
record_checks() {
  sed -n -E 's#^PASS ([^:]*)$#\1 PASSED#p; s#^FAIL ([^:]*):.*#\1 FAILED#p; s#^FAIL ([^:]*)$#\1 FAILED#p' |
    while read -r line; do
      local status=${line##* } name=${line% *}
      echo "//$1:${name// /_} $status"
    done >>"$results"
}

# The real node on its own control plane: pods run, services, DNS, logs, nothing left after down.
run_node_test() {
  LABKUBE_STATE=$LABKUBE_CACHE/node-test-state tests/cluster/node_test.sh >"$LABKUBE_CACHE/node-test.out" 2>&1 ||
    tail -20 "$LABKUBE_CACHE/node-test.out" >&2
  record_checks tests/cluster/node_test <"$LABKUBE_CACHE/node-test.out"
  grep -q '^PASS' "$LABKUBE_CACHE/node-test.out" || echo "//tests/cluster:node_test FAILED" >>"$results"
  LABKUBE_STATE=$LABKUBE_CACHE/node-test-state cluster down --purge >/dev/null 2>&1 || true
}

# labkube's images, checked: non-root, no shell, libraries inside, read-only run, reproducible.
run_image_checks() {
  if tools/images.sh >"$LABKUBE_CACHE/images.log" 2>&1; then
    tests/images/check.sh >"$LABKUBE_CACHE/image-checks.out" 2>&1 || true
    record_checks tests/images <"$LABKUBE_CACHE/image-checks.out"
    grep -E 'MB|size' "$LABKUBE_CACHE/images.log" | tail -6 >&2 || true
  else
    echo "//tools:images FAILED" >>"$results"
    tail -20 "$LABKUBE_CACHE/images.log" >&2
  fi
}

# labkube installed in the lab as an admin installs it (tools/lab.sh), then the end-to-end tests
# against it, the install tests, and last the uninstall test (it removes the install).
run_e2e_tests() {
  if LABKUBE_LOCAL_VOLUMES=4 tools/lab.sh up >"$LABKUBE_STATE/lab-up.log" 2>&1; then
    eval "$(tools/lab.sh env)"
    export LABKUBE_GATEWAY LABKUBE_WEB LABKUBE_CA LABKUBE_CREDENTIALS LABKUBE_KUSTOMIZATION
    run_bazel_tests --config=e2e //...
    run_bazel_tests --config=install //tests/install:install_test
    run_bazel_tests --config=install //tests/install:uninstall_test
  else
    echo "//tools:lab_up FAILED" >>"$results"
    tail -30 "$LABKUBE_STATE/lab-up.log" >&2
  fi
  tools/lab.sh down >/dev/null 2>&1 || true
}

# Phase timing: `phase NAME` closes the running phase and starts NAME; `phase_report` prints them.
phases=() phase_name="" phase_start=0
phase() {
  if [[ -n $phase_name ]]; then phases+=("$(printf '%-20s %5d s' "$phase_name" $((SECONDS - phase_start)))"); fi
  phase_name=${1:-} phase_start=$SECONDS
  [[ -z $phase_name ]] || log "phase: $phase_name"
}
phase_report() {
  phase
  log "phase times:"
  printf '[dev.sh]   %s\n' "${phases[@]}" >&2
}

# The attack suite's table (tests/integration/security): what was tried, what should happen, what did.
print_attack_table() {
  local table
  table="$(bazel info bazel-testlogs 2>/dev/null)/tests/integration/security/attack_test/test.outputs/attacks.txt"
  [[ -f $table ]] || return 0
  log "attacks tried against the real API server:"
  cat "$table" >&2
}

cmd_test() {
  local start=$SECONDS ran_cluster_tests=0
  results=$(mktemp)
  phase packages
  cmd_deps
  phase "bazel build"
  bazel build //... || echo "//build:bazel_build FAILED" >>"$results"
  phase "unit tests"
  run_bazel_tests //...
  phase fuzz
  # Every parser of outside input has a libFuzzer target (tools/fuzz.sh: AdmissionReview, Machine
  # and pods, kubeconfig, watch streams, gateway requests), each run for a bounded time after
  # replaying its regressions (clang + libFuzzer, outside Bazel). One result line per target.
  tools/fuzz.sh "${LABKUBE_FUZZ_SECONDS:-10}" >"$LABKUBE_CACHE/fuzz.out" 2>"$LABKUBE_CACHE/fuzz.log" ||
    tail -40 "$LABKUBE_CACHE/fuzz.log" >&2
  sed -n 's#^fuzz \([a-z0-9_-]*\): \(PASSED\|FAILED\) .*#//tools:fuzz_\1 \2#p' "$LABKUBE_CACHE/fuzz.out" >>"$results"
  grep -q . "$LABKUBE_CACHE/fuzz.out" || echo "//tools:fuzz FAILED" >>"$results"
  phase "upstream binaries"
  log "building the upstream binaries that are missing from $LABKUBE_CACHE/bin"
  # Cluster tests get a control plane of their own, so they never meet a running `./dev.sh up` lab.
  export LABKUBE_STATE=${LABKUBE_TEST_STATE:-$LABKUBE_CACHE/test-state}
  if ! tests/cluster/build-binaries.sh; then
    echo "//tests/cluster:build_binaries FAILED" >>"$results"
  else
    phase "control plane up"
    if cluster up --quiet; then
      eval "$(cluster env)"
      export LABKUBE_KUBECONFIG LABKUBE_STATE KUBECTL GRPCURL
      phase "cluster tests"
      run_bazel_tests --config=cluster //...
      ran_cluster_tests=1
      phase "real node"
      run_node_test
      phase "images"
      run_image_checks
      phase "in-cluster lab"
      run_e2e_tests
    else
      echo "//tests/cluster:cluster_up FAILED" >>"$results"
    fi
  fi
  phase teardown
  cluster down --purge >/dev/null 2>&1 || true
  [[ $ran_cluster_tests == 0 ]] || print_attack_table
  phase_report
  log "tests took $((SECONDS - start)) s"
  tools/count_tests.sh "$results"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  test) shift; cmd_test "$@" ;;
  deps) cmd_deps ;;
  build) cmd_deps; cmd_build ;;
  images) shift; tools/images.sh "$@" ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
