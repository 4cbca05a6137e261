#!/usr/bin/env bash
# The local Kubernetes control plane for labkube tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (fake GPU nodes, no kubelet), all real upstream
# binaries (tests/cluster/build-binaries.sh) listening on 127.0.0.1 only.
#
#   cluster.sh up [--quiet]   start whatever is not running (idempotent); last line: export KUBECONFIG=...
#   cluster.sh down [--purge] stop everything it started; --purge also deletes the state folder
#   cluster.sh status         components, pids, ports; exit 0 if all up, 1 otherwise
#   cluster.sh kubeconfig     path of the admin kubeconfig
#   cluster.sh restart-apiserver   stop and start only kube-apiserver on the same port
#   cluster.sh env            KEY=value lines for scripts to eval (LABKUBE_KUBECONFIG, KUBECTL, ...)
#
# Environment: LABKUBE_STATE (default ~/.cache/labkube/state: certs, etcd data, logs, pids, ports,
# kubeconfigs), LABKUBE_CACHE (binaries, default ~/.cache/labkube), LABKUBE_NODES_FILE (default
# nodes.yaml beside this script), LABKUBE_APISERVER_PORT / LABKUBE_ETCD_PORT /
# LABKUBE_ETCD_PEER_PORT (otherwise free ports are chosen at the first `up` and remembered),
# LABKUBE_UP_TIMEOUT (seconds, default 120), LABKUBE_STOP_TIMEOUT (seconds before SIGKILL, default 10).
set -euo pipefail

# Physical location (a Bazel runfiles symlink resolves to the source tree, beside versions.env).
self=$(readlink -f "${BASH_SOURCE[0]}")
here=$(dirname "$self")
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"

cache=${LABKUBE_CACHE:-$HOME/.cache/labkube}
state=${LABKUBE_STATE:-$cache/state}
mkdir -p "$state"
state=$(cd "$state" && pwd)
nodes_file=${LABKUBE_NODES_FILE:-$here/nodes.yaml}
up_timeout=${LABKUBE_UP_TIMEOUT:-120}
stop_timeout=${LABKUBE_STOP_TIMEOUT:-10}

pki=$state/pki
logs=$state/logs
run=$state/run
kubeconfig=$state/kubeconfig
ports_file=$state/ports.env
service_cidr=10.96.0.0/16
service_account_issuer=https://kubernetes.default.svc.cluster.local

# Start order; `down` stops in reverse.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# binary NAME: path of the cached binary for its pinned version (versions.env).
binary() {
  local version
  version=$(upstream_version "$1") || die "versions.env does not list $1"
  printf '%s/bin/%s-%s' "$cache" "$1" "$version"
}

ensure_binaries() {
  local name
  for name in "${components[@]}" kubectl grpcurl; do
    if [[ ! -x $(binary "$name") ]]; then
      log "$(binary "$name") missing: running build-binaries.sh (slow the first time)"
      LABKUBE_CACHE=$cache "$here/build-binaries.sh"
      break
    fi
  done
  mkdir -p "$state/bin"
  ln -sfn "$(binary kubectl)" "$state/bin/kubectl"
  ln -sfn "$(binary grpcurl)" "$state/bin/grpcurl"
}

kubectl() { "$(binary kubectl)" --kubeconfig "$kubeconfig" "$@"; }

# ---------------------------------------------------------------------------------------------
# Ports

port_listening() { [[ -n $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]; }

# pick_port: sets REPLY to a free port in 20000-31999 (below the kernel's ephemeral range)
# that is not already in $taken.
pick_port() {
  local i p
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + RANDOM % 12000))
    if [[ " $taken " != *" $p "* ]] && ! port_listening "$p"; then
      taken+=" $p"
      REPLY=$p
      return 0
    fi
  done
  die "no free port found"
}

# load_ports: sets ETCD_PORT ETCD_PEER_PORT APISERVER_PORT from the environment, else from the
# state folder, else picks free ones; records them.
load_ports() {
  ETCD_PORT='' ETCD_PEER_PORT='' APISERVER_PORT=''
  # shellcheck source=/dev/null
  [[ -f $ports_file ]] && source "$ports_file"
  ETCD_PORT=${LABKUBE_ETCD_PORT:-$ETCD_PORT}
  ETCD_PEER_PORT=${LABKUBE_ETCD_PEER_PORT:-$ETCD_PEER_PORT}
  APISERVER_PORT=${LABKUBE_APISERVER_PORT:-$APISERVER_PORT}
  local taken=" $ETCD_PORT $ETCD_PEER_PORT $APISERVER_PORT "
  [[ -n $ETCD_PORT ]] || { pick_port; ETCD_PORT=$REPLY; }
  [[ -n $ETCD_PEER_PORT ]] || { pick_port; ETCD_PEER_PORT=$REPLY; }
  [[ -n $APISERVER_PORT ]] || { pick_port; APISERVER_PORT=$REPLY; }
  printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' \
    "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" >"$ports_file"
}

# read_ports: like load_ports but never picks or writes (status, env, down).
read_ports() {
  ETCD_PORT='' ETCD_PEER_PORT='' APISERVER_PORT=''
  # shellcheck source=/dev/null
  [[ -f $ports_file ]] && source "$ports_file"
  return 0
}

# ports_of NAME: the TCP ports a component listens on.
ports_of() {
  case $1 in
    etcd) echo "$ETCD_PORT $ETCD_PEER_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    *) echo "" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Certificates and kubeconfigs

gen_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# gen_cert NAME SUBJECT EXTENSIONS: key + certificate signed by the lab CA.
gen_cert() {
  local name=$1 subject=$2 ext=$3
  gen_key "$pki/$name.key"
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "$pki/$name.ext" \
    -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'

# The host address pods reach the API server at (the default route's; a real node's pods
# cannot use loopback): LABKUBE_HOST_IP, else that address, else "" (loopback only).
host_ip() {
  if [[ -n ${LABKUBE_HOST_IP:-} ]]; then echo "$LABKUBE_HOST_IP"; return; fi
  local dev
  dev=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
  [[ -n $dev ]] || return 0
  ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

apiserver_cert() {
  local ip_san=''
  [[ -z $HOST_IP ]] || ip_san="IP:$HOST_IP,"
  gen_cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=${ip_san}IP:127.0.0.1,IP:::1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  printf '%s\n' "$HOST_IP" >"$pki/apiserver.host-ip"
}

ensure_pki() {
  if [[ -f $pki/ca.crt && -f $pki/kwok.crt ]]; then
    # The host address moved (another network): a new serving certificate for it.
    [[ "$(cat "$pki/apiserver.host-ip" 2>/dev/null)" == "$HOST_IP" ]] || apiserver_cert
    return 0
  fi
  log "generating certificates in $pki"
  rm -rf "$pki"
  mkdir -p "$pki"
  chmod 700 "$pki"
  gen_key "$pki/ca.key"
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=labkube-local-ca" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$pki/ca.crt" 2>/dev/null
  apiserver_cert
  gen_key "$pki/sa.key"
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  gen_cert admin "/O=system:masters/CN=labkube-admin" "$client_ext"
  gen_cert controller-manager "/CN=system:kube-controller-manager" "$client_ext"
  gen_cert scheduler "/CN=system:kube-scheduler" "$client_ext"
  # kwok rewrites node/pod status, leases and deletes pods: cluster-admin like a kubelet+more.
  gen_cert kwok "/O=system:masters/CN=system:kwok-controller" "$client_ext"
}

# The client certificate kube-apiserver presents to admission webhooks (CN
# labkube-webhook-client; the injector accepts reviews only from it), and the AdmissionConfiguration
# that makes the API server present it to every webhook ("*").
ensure_webhook_client() {
  [[ -f $pki/webhook-client.crt ]] || gen_cert webhook-client "/CN=labkube-webhook-client" "$client_ext"
  cat >"$state/webhook-client.kubeconfig" <<EOF
apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: $pki/webhook-client.crt
    client-key: $pki/webhook-client.key
EOF
  cat >"$state/admission-config.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $state/webhook-client.kubeconfig
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: $state/webhook-client.kubeconfig
EOF
}

# write_kubeconfig FILE CERT_NAME USER CONTEXT: kubeconfig with embedded CA and client cert.
write_kubeconfig() {
  local file=$1 cert=$2 user=$3 context=$4
  (
    umask 077
    cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: labkube-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$pki/$cert.crt")
    client-key-data: $(base64 -w0 "$pki/$cert.key")
contexts:
- name: $context
  context:
    cluster: labkube-local
    user: $user
current-context: $context
EOF
    mv "$file.tmp" "$file"
  )
}

ensure_kubeconfigs() {
  mkdir -p "$state/kubeconfigs"
  write_kubeconfig "$kubeconfig" admin labkube-admin labkube-local
  local c
  for c in controller-manager scheduler kwok; do
    write_kubeconfig "$state/kubeconfigs/$c.kubeconfig" "$c" "$c" "$c"
  done
}

# ---------------------------------------------------------------------------------------------
# Processes

pid_of() { [[ -f $run/$1.pid ]] && cat "$run/$1.pid"; }

# proc_alive PID NAME: PID is a live (not zombie) process running NAME's binary.
proc_alive() {
  local pid=$1 exe st
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $st != Z ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ $exe == "$(binary "$2")"* ]]
}

is_running() {
  local pid
  pid=$(pid_of "$1") || return 1
  proc_alive "$pid" "$1"
}

# kube-apiserver runs under a supervisor (a `cluster.sh __supervise` process started by `up`) that
# starts it again when `restart-apiserver` asks. The restart thus never spawns the server from the
# caller's process tree: `bazel test` (process-wrapper is a child subreaper) kills every
# descendant of a test when it ends, setsid or not.
supervised() { [[ $1 == kube-apiserver ]]; }

supervisor_pid() {
  local pid
  pid=$(cat "$run/$1.supervisor.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "__supervise $1" || return 1
  echo "$pid"
}

# set_args NAME: sets ARGS to the command line flags of a component.
set_args() {
  case $1 in
    etcd)
      ARGS=(--name=labkube --data-dir="$state/etcd"
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT"
        --advertise-client-urls="http://127.0.0.1:$ETCD_PORT"
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-cluster="labkube=http://127.0.0.1:$ETCD_PEER_PORT"
        --initial-cluster-state=new --log-level=warn)
      ;;
    kube-apiserver)
      # With a host address, pods (on a real node) reach the API server through the
      # kubernetes Service, whose endpoint the API server keeps (lease reconciler); without
      # one, loopback only.
      if [[ -n $HOST_IP ]]; then
        ARGS=(--bind-address=0.0.0.0 --advertise-address="$HOST_IP" --endpoint-reconciler-type=lease)
      else
        ARGS=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none)
      fi
      ARGS+=(--secure-port="$APISERVER_PORT"
        --etcd-servers="http://127.0.0.1:$ETCD_PORT"
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key"
        --client-ca-file="$pki/ca.crt" '--authorization-mode=Node,RBAC' --allow-privileged=true
        --service-cluster-ip-range="$service_cidr"
        --kubelet-preferred-address-types=InternalIP,Hostname --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key"
        --service-account-issuer="$service_account_issuer"
        --api-audiences="$service_account_issuer"
        --service-account-key-file="$pki/sa.pub"
        --service-account-signing-key-file="$pki/sa.key"
        # Compact etcd history every 30 s (default 5 min), so old resourceVersions expire (410)
        # within a test run, as they do on a busy cluster: watch/relist paths meet it for real.
        --etcd-compaction-interval=30s
        # Graceful stop in ~2 s: otherwise net/http waits up to --request-timeout (60 s) for the
        # clients' open watch connections; new requests get 429 + Retry-After meanwhile.
        --shutdown-send-retry-after=true
        --admission-control-config-file="$state/admission-config.yaml")
      ;;
    kube-controller-manager)
      ARGS=(--kubeconfig="$state/kubeconfigs/controller-manager.kubeconfig"
        --secure-port=0 --leader-elect=false '--controllers=*'
        --use-service-account-credentials=true
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt"
        --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key"
        --service-cluster-ip-range="$service_cidr" --cluster-name=labkube)
      ;;
    kube-scheduler)
      ARGS=(--kubeconfig="$state/kubeconfigs/scheduler.kubeconfig"
        --secure-port=0 --leader-elect=false)
      ;;
    kwok)
      ARGS=(--kubeconfig="$state/kubeconfigs/kwok.kubeconfig" --config="$here/kwok-stages.yaml"
        --manage-all-nodes=false
        --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake
        --manage-nodes-with-label-selector=
        --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40)
      ;;
  esac
}

# check_ports_free NAME: dies if a port of the (not running) component is taken.
check_ports_free() {
  local port
  for port in $(ports_of "$1"); do
    if port_listening "$port"; then
      die "port $port for $1 is taken by another process: $(ss -Hltnp "( sport = :$port )")
  stop it, or choose other ports (LABKUBE_*_PORT, or remove $ports_file after 'down')"
    fi
  done
}

# launch NAME [setsid]: starts the binary in the background (in a session of its own with
# `setsid`), logs to logs/NAME.log, writes run/NAME.pid.
launch() {
  local name=$1 session=${2:-} log_file=$logs/$1.log bin
  bin=$(binary "$name")
  [[ -f $log_file ]] && mv -f "$log_file" "$log_file.1"
  set_args "$name"
  # kwok reads ~/.kwok/kwok.yaml if it exists: give it a home of its own.
  mkdir -p "$state/home"
  # fd 9 is the state lock (cmd_up): not inherited, or the daemon would hold it forever.
  # A background job of a non-interactive shell is no process group leader, so setsid does not
  # fork and $! is the daemon's pid.
  if [[ $session == setsid ]]; then
    HOME=$state/home setsid "$bin" "${ARGS[@]}" </dev/null >"$log_file" 2>&1 9>&- &
  else
    HOME=$state/home "$bin" "${ARGS[@]}" </dev/null >"$log_file" 2>&1 9>&- &
  fi
  echo $! >"$run/$name.pid"
}

# start NAME: starts the component in its own session (it survives this shell).
start() {
  local name=$1
  if supervised "$name"; then
    if ! supervisor_pid "$name" >/dev/null; then
      check_ports_free "$name"
      rm -f "$run/$name.pid" "$run/$name.restart"
      LABKUBE_STATE=$state LABKUBE_CACHE=$cache setsid "$BASH" "$self" __supervise \
        "$name" </dev/null >>"$logs/$name.supervisor.log" 2>&1 9>&- &
      echo $! >"$run/$name.supervisor.pid"
    fi
    wait_for - "the supervisor to start $name" is_running "$name"
    return 0
  fi
  check_ports_free "$name"
  launch "$name" setsid
}

# cmd_supervise NAME (internal): runs NAME, and runs it again each time it exits while
# run/NAME.restart exists; exits when NAME exits otherwise (down) or on SIGTERM.
cmd_supervise() {
  local name=$1 child='' i
  trap 'log "supervisor: SIGTERM"; [[ -z $child ]] || kill -TERM "$child" 2>/dev/null; exit 0' TERM INT
  while :; do
    rm -f "$run/$name.restart"
    read_ports
    for ((i = 0; i < 100; i++)); do
      check_ports_free_quiet "$name" && break
      sleep 0.1
    done
    launch "$name"
    child=$(pid_of "$name")
    log "$(date -u +%FT%TZ) supervisor: started $name ($child)"
    wait "$child" || true
    [[ -f $run/$name.restart ]] || break
  done
  log "$(date -u +%FT%TZ) supervisor: $name exited, not restarting"
  rm -f "$run/$name.supervisor.pid"
}

check_ports_free_quiet() {
  local port
  for port in $(ports_of "$1"); do
    ! port_listening "$port" || return 1
  done
}

# terminate NAME PID: SIGTERM, then SIGKILL after $stop_timeout seconds; waits until it is gone.
terminate() {
  local name=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < stop_timeout * 10; i++)); do
    proc_alive "$pid" "$name" || return 0
    sleep 0.1
  done
  log "$name ($pid) ignored SIGTERM for ${stop_timeout}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    proc_alive "$pid" "$name" || return 0
    sleep 0.1
  done
  die "could not stop $name ($pid)"
}

# stop NAME: stops the component (and its supervisor, which then does not restart it).
stop() {
  local name=$1 pid spid i
  rm -f "$run/$name.restart"
  if pid=$(pid_of "$name") && proc_alive "$pid" "$name"; then
    terminate "$name" "$pid"
    log "stopped $name ($pid)"
  fi
  if spid=$(supervisor_pid "$name"); then
    for ((i = 0; i < 50; i++)); do
      kill -0 "$spid" 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM "$spid" 2>/dev/null || true
  fi
  rm -f "$run/$name.pid" "$run/$name.supervisor.pid"
}

# wait_for NAME DESCRIPTION COMMAND...: polls COMMAND until it succeeds before the `up`
# deadline; fails early if component NAME (unless "-") died.
wait_for() {
  local name=$1 what=$2
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    if [[ $name != - ]] && ! is_running "$name"; then
      tail -n 30 "$logs/$name.log" >&2 || true
      die "$name exited while waiting for $what (log: $logs/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      [[ $name != - ]] && { tail -n 30 "$logs/$name.log" >&2 || true; }
      die "timed out after ${up_timeout}s waiting for $what"
    fi
    sleep 0.2
  done
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }

apiserver_ready() {
  [[ $(curl -fsS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
    --key "$pki/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz") == ok ]]
}

nodes_ready() { kubectl wait --for=condition=Ready -f "$nodes_file" --timeout=1s; }

default_service_account() { kubectl get serviceaccount default -n default; }

# wait_ready NAME: what "started" means for each component.
wait_ready() {
  case $1 in
    etcd) wait_for etcd "etcd health" etcd_healthy ;;
    kube-apiserver) wait_for kube-apiserver "kube-apiserver /readyz" apiserver_ready ;;
    # controller-manager, scheduler and kwok retry until the API server answers; `up` checks
    # them through their effects (default ServiceAccount, Ready nodes) and is_running.
    *) ;;
  esac
}

apply_cluster_objects() {
  kubectl apply --server-side --force-conflicts --field-manager=labkube-cluster \
    -f "$nodes_file" >/dev/null
  # On update the API server ignores a Node's status in the main resource: set capacity through
  # the status subresource too (server-side apply owns only capacity/allocatable, not conditions).
  kubectl apply --server-side --force-conflicts --field-manager=labkube-cluster \
    --subresource=status -f "$nodes_file" >/dev/null
  kubectl create namespace labkube-system --dry-run=client -o yaml |
    kubectl apply --server-side --field-manager=labkube-cluster -f - >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  local quiet=${1:-} start_ns name started=0
  start_ns=$(date +%s%N)
  deadline=$((SECONDS + up_timeout))
  ensure_binaries
  mkdir -p "$logs" "$run"
  exec 9>"$state/.lock"
  flock -w "$up_timeout" 9 || die "another cluster.sh holds $state/.lock"
  ensure_pki
  ensure_webhook_client
  load_ports
  ensure_kubeconfigs
  for name in "${components[@]}"; do
    is_running "$name" || supervisor_pid "$name" >/dev/null || check_ports_free "$name"
  done
  for name in "${components[@]}"; do
    if is_running "$name"; then
      [[ $quiet == --quiet ]] || log "$name already running (pid $(pid_of "$name"))"
      continue
    fi
    start "$name"
    started=$((started + 1))
    wait_ready "$name"
    log "started $name (pid $(pid_of "$name"))"
  done
  wait_for kube-apiserver "kube-apiserver /readyz" apiserver_ready
  apply_cluster_objects
  wait_for kwok "nodes Ready" nodes_ready
  wait_for kube-controller-manager "default ServiceAccount" default_service_account
  for name in "${components[@]}"; do
    is_running "$name" || { tail -n 30 "$logs/$name.log" >&2; die "$name exited (log: $logs/$name.log)"; }
  done
  local elapsed
  elapsed=$((($(date +%s%N) - start_ns) / 1000000))
  log "$(printf 'cluster up (%d component(s) started) in %d.%03d s' "$started" \
    $((elapsed / 1000)) $((elapsed % 1000)))"
  log "API server https://127.0.0.1:$APISERVER_PORT, logs in $logs"
  echo "export PATH=$state/bin:\$PATH"
  echo "export KUBECONFIG=$kubeconfig"
}

cmd_down() {
  local purge=${1:-} i name
  [[ -z $purge || $purge == --purge ]] || die "usage: cluster.sh down [--purge]"
  read_ports
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    stop "${components[i]}"
  done
  for name in "${components[@]}"; do
    local port
    for port in $(ports_of "$name"); do
      for ((i = 0; i < 50; i++)); do port_listening "$port" || break; sleep 0.1; done
      port_listening "$port" && log "WARNING: port $port ($name) still listening"
    done
  done
  if [[ $purge == --purge ]]; then
    [[ $state == / || $state == "$HOME" ]] && die "refusing to delete $state"
    rm -rf "$state"
    log "deleted $state"
  fi
  log "cluster down"
}

cmd_status() {
  local name all=0 pid
  read_ports
  for name in "${components[@]}"; do
    if is_running "$name"; then
      pid=$(pid_of "$name")
      printf '%-24s running  pid %-8s ports %-12s %s\n' "$name" "$pid" "$(ports_of "$name")" \
        "$(supervisor_pid "$name" | sed 's/^/supervisor pid /')"
    else
      printf '%-24s stopped\n' "$name"
      all=1
    fi
  done
  if [[ $all == 0 ]]; then
    if apiserver_ready 2>/dev/null; then
      echo "api server               https://127.0.0.1:$APISERVER_PORT ready"
    else
      echo "api server               https://127.0.0.1:$APISERVER_PORT NOT ready"
      all=1
    fi
  fi
  echo "kubeconfig               $kubeconfig"
  return "$all"
}

apiserver_replaced() {
  local pid
  pid=$(pid_of kube-apiserver) && [[ $pid != "$1" ]] && proc_alive "$pid" kube-apiserver
}

cmd_restart_apiserver() {
  local old
  deadline=$((SECONDS + up_timeout))
  mkdir -p "$logs" "$run"
  exec 9>"$state/.lock"
  flock -w "$up_timeout" 9 || die "another cluster.sh holds $state/.lock"
  read_ports
  [[ -n $APISERVER_PORT ]] || die "no recorded API server port: run 'cluster.sh up' first"
  is_running etcd || die "etcd is not running: run 'cluster.sh up'"
  old=$(pid_of kube-apiserver) || old=''
  if supervisor_pid kube-apiserver >/dev/null && proc_alive "$old" kube-apiserver; then
    touch "$run/kube-apiserver.restart"
    terminate kube-apiserver "$old"
    log "stopped kube-apiserver ($old)"
    wait_for - "the supervisor to start kube-apiserver again" apiserver_replaced "$old"
  else
    # Without a supervisor the new server is a child of this process tree (see supervised).
    log "kube-apiserver has no supervisor (not running, or started by an older cluster.sh)"
    stop kube-apiserver
    start kube-apiserver
  fi
  wait_ready kube-apiserver
  log "restarted kube-apiserver (pid $(pid_of kube-apiserver)) on port $APISERVER_PORT"
  # The other components reconnect on their own with client-go's backoff (a few seconds; up to
  # 30-60 s after several restarts within 2 minutes): wait for their effects, not for this.
}

cmd_env() {
  read_ports
  printf 'LABKUBE_KUBECONFIG=%q\n' "$kubeconfig"
  printf 'LABKUBE_STATE=%q\n' "$state"
  printf 'KUBECTL=%q\n' "$(binary kubectl)"
  printf 'GRPCURL=%q\n' "$(binary grpcurl)"
  [[ -z $APISERVER_PORT ]] || printf 'LABKUBE_APISERVER=%q\n' "https://127.0.0.1:$APISERVER_PORT"
  printf 'LABKUBE_CA_FILE=%q\n' "$pki/ca.crt"
  printf 'LABKUBE_HOST_IP=%q\n' "$HOST_IP"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    kubeconfig) echo "$kubeconfig" ;;
    restart-apiserver) cmd_restart_apiserver ;;
    env) cmd_env ;;
    __supervise) mkdir -p "$logs" "$run"; cmd_supervise "$@" ;;
    *)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
      exit 2 ;;
  esac
}
HOST_IP=$(host_ip)
main "$@"
