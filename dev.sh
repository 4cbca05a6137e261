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
  libcurl4-openssl-dev rapidjson-dev libsimdjson-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libssl-dev libcrypt-dev
  clang clang-format libclang-rt-14-dev iproute2 procps
  containerd runc containernetworking-plugins iptables conntrack umoci
  skopeo # with umoci: tools/images.sh
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
  cluster up
  tools/services.sh up
  eval "$(cluster env)"
  eval "$(tools/services.sh env)"
  cat <<MSG

The local lab is up. Try:
  export KUBECONFIG=$LABKUBE_KUBECONFIG PATH=$LABKUBE_STATE/bin:\$PATH
  kubectl get nodes -L nvidia.com/gpu.product
  kubectl get machines
  grpcurl -cacert $LABKUBE_CA -cert $LABKUBE_ADMIN_CERT -key $LABKUBE_ADMIN_KEY $LABKUBE_SCHEDULER list
  grpcurl -cacert $LABKUBE_CA -cert $LABKUBE_ADMIN_CERT -key $LABKUBE_ADMIN_KEY \
    $LABKUBE_SCHEDULER labkube.scheduler.v1alpha1.Scheduler/ListMachineTypes
credentials: $LABKUBE_CREDENTIALS
Log in as the demo member (password in the credentials file):
  $LABCTL login --server $LABKUBE_GATEWAY --ca-file $LABKUBE_CA --username alice --password-stdin
  $LABCTL machines
Stop it with: ./dev.sh down
export KUBECONFIG=$LABKUBE_KUBECONFIG
MSG
}

cmd_down() {
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

# The whole lab (every labkube service on the test control plane), then the end-to-end tests.
run_e2e_tests() {
  if LABKUBE_LOCAL_VOLUMES=4 tools/services.sh up >"$LABKUBE_STATE/services-up.log" 2>&1; then
    eval "$(tools/services.sh env)"
    export LABKUBE_GATEWAY LABKUBE_CA LABKUBE_CREDENTIALS
    run_bazel_tests --config=e2e //...
  else
    echo "//tools:services_up FAILED" >>"$results"
    tail -20 "$LABKUBE_STATE/services-up.log" >&2
  fi
  tools/services.sh down >/dev/null 2>&1 || true
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
      phase "end-to-end"
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
