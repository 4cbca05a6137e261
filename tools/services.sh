#!/usr/bin/env bash
# Runs the labkube services of the local lab as local processes against the local control plane
# (kwok runs no containers, so the Deployments in k8s/ are validated but not run there).
# Each service uses its own ServiceAccount's token, so the RBAC in k8s/ is what it gets.
#
#   services.sh up       apply manifests, start every built service (idempotent)
#   services.sh down     stop them
#   services.sh status   which run, on which ports
#   services.sh env      KEY=value lines (addresses, CA file) for scripts to eval
# Binaries come from bazel-bin; LABKUBE_BIN_DIR=<dir> picks another output tree (for benchmarks:
# bazel build -c opt //... && LABKUBE_BIN_DIR=$PWD/bazel-out/k8-opt/bin tools/services.sh up).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$("$root/tests/cluster/cluster.sh" env)"
state=$LABKUBE_STATE
bin_dir=${LABKUBE_BIN_DIR:-$(cd "$root" && bazel info bazel-bin 2>/dev/null)}
pki=$state/labkube-pki
run=$state/run
logs=$state/logs
ports_file=$state/labkube-ports.env
mkdir -p "$pki" "$run" "$logs"
k() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }
log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

pick_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    [[ -z $(ss -Hltn "( sport = :$p )" 2>/dev/null) ]] && { echo "$p"; return; }
  done
  die "no free port found"
}

ensure_ports() {
  [[ -f $ports_file ]] || {
    echo "SCHEDULER_GRPC_PORT=$(pick_port)"
    echo "SCHEDULER_HTTP_PORT=$(pick_port)"
  } >"$ports_file"
  local key
  for key in INJECTOR_PORT AUTH_GRPC_PORT AUTH_HTTP_PORT GATEWAY_GRPC_PORT GATEWAY_HTTP_PORT; do
    grep -q "^$key=" "$ports_file" || echo "$key=$(pick_port)" >>"$ports_file"
  done
  # shellcheck disable=SC1090
  source "$ports_file"
}

# One CA for labkube's own serving certificates (local lab only; see docs for real clusters).
ensure_pki() {
  [[ -f $pki/server.crt ]] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=labkube local CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=labkube" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.labkube-system.svc,DNS:*.labkube-system.svc.cluster.local\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$pki/san.ext" -out "$pki/server.crt" 2>/dev/null
  chmod 600 "$pki"/*.key
}

# client_cert NAME: $pki/NAME.crt/.key, a client certificate with common name NAME signed by the
# local CA: labkube's services prove who they are to each other with these (mutual TLS).
client_cert() {
  local name=$1
  [[ -f $pki/$name.crt ]] && return
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$pki/$name.key" \
    -out "$pki/$name.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$pki/client.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$pki/client.ext" -out "$pki/$name.crt" 2>/dev/null
  chmod 600 "$pki/$name.key"
}

apply_manifests() {
  k apply -f "$root/k8s/base/" -f "$root/k8s/crds/" >/dev/null
  k wait --for=condition=Established crd/machines.labkube.io --timeout=30s >/dev/null
  k apply -f "$root/k8s/scheduler/rbac.yaml" >/dev/null
  k apply -f "$root/k8s/authenticator/member-roles.yaml" -f "$root/k8s/authenticator/rbac.yaml" \
    -f "$root/k8s/authenticator/scope-policy.yaml" \
    -f "$root/k8s/authenticator/secrets.yaml" >/dev/null
  k apply -f "$root/k8s/gateway/rbac.yaml" >/dev/null
  k apply -f "$root/k8s/policy/" >/dev/null
}

# sa_kubeconfig NAME: a kubeconfig for ServiceAccount labkube-system/NAME with a 24 h token.
sa_kubeconfig() {
  local sa=$1 out=$state/kubeconfig-$1 token server ca
  token=$(k create token "$sa" -n labkube-system --duration=24h)
  server=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  umask 077
  cat >"$out" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: $sa, user: {token: "$token"}}]
contexts: [{name: $sa, context: {cluster: local, user: $sa, namespace: labkube-system}}]
current-context: $sa
KC
  echo "$out"
}

running() { [[ -f $run/$1.pid ]] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

wait_ready() {
  local url=$1 name=$2
  for _ in $(seq 150); do
    curl -fsS --max-time 1 --cacert "$pki/ca.crt" "$url" >/dev/null 2>&1 && return 0
    running "$name" || die "$name exited; see $logs/$name.log"
    sleep 0.2
  done
  die "$name not ready at $url; see $logs/$name.log"
}

start_scheduler() {
  local bin=$bin_dir/services/scheduler/scheduler
  [[ -x $bin ]] || { log "scheduler not built (bazel build //services/scheduler:scheduler)"; return; }
  running labkube-scheduler && return
  local kc
  kc=$(sa_kubeconfig labkube-scheduler)
  "$bin" --kubeconfig="$kc" --grpc_address="127.0.0.1:$SCHEDULER_GRPC_PORT" \
    --http_address=127.0.0.1 --http_port="$SCHEDULER_HTTP_PORT" \
    --tls_cert="$pki/server.crt" --tls_key="$pki/server.key" --tls_client_ca="$pki/ca.crt" \
    --identity=local-0 \
    >"$logs/labkube-scheduler.log" 2>&1 &
  echo $! >"$run/labkube-scheduler.pid"
  wait_ready "https://127.0.0.1:$SCHEDULER_HTTP_PORT/readyz" labkube-scheduler
  log "scheduler ready: grpc 127.0.0.1:$SCHEDULER_GRPC_PORT, metrics https://127.0.0.1:$SCHEDULER_HTTP_PORT/metrics"
}

# The local lab's webhook registration: the manifest's, pointed at the local process by URL.
register_webhook() {
  local ca
  ca=$(base64 -w0 <"$pki/ca.crt")
  sed -e '/^    clientConfig:/,$d' "$root/k8s/injector/webhook.yaml" >"$state/webhook-local.yaml"
  cat >>"$state/webhook-local.yaml" <<WH
    clientConfig:
      url: https://127.0.0.1:$INJECTOR_PORT/mutate-pods
      caBundle: $ca
WH
  k apply -f "$state/webhook-local.yaml" >/dev/null
}

start_injector() {
  local bin=$bin_dir/services/injector/injector
  [[ -x $bin ]] || { log "injector not built (bazel build //services/injector:injector)"; return; }
  running labkube-injector && return
  "$bin" --address=127.0.0.1 --port="$INJECTOR_PORT" --tls_cert="$pki/server.crt" \
    --tls_key="$pki/server.key" --scheduler="127.0.0.1:$SCHEDULER_GRPC_PORT" \
    --scheduler_ca="$pki/ca.crt" --client_cert="$pki/labkube-injector.crt" \
    --client_key="$pki/labkube-injector.key" \
    --client_ca="$(dirname "$LABKUBE_KUBECONFIG")/pki/ca.crt" >"$logs/labkube-injector.log" 2>&1 &
  echo $! >"$run/labkube-injector.pid"
  wait_ready "https://127.0.0.1:$INJECTOR_PORT/readyz" labkube-injector
  register_webhook
  log "injector ready: https://127.0.0.1:$INJECTOR_PORT/mutate-pods (webhook labkube-injector)"
}

start_authenticator() {
  local bin=$bin_dir/services/authenticator/labkube-authenticator
  [[ -x $bin ]] || { log "authenticator not built (bazel build //services/authenticator/...)"; return; }
  running labkube-authenticator && return
  local kc
  kc=$(sa_kubeconfig labkube-authenticator)
  "$bin" --kubeconfig="$kc" --grpc_address="127.0.0.1:$AUTH_GRPC_PORT" --http_address=127.0.0.1 \
    --http_port="$AUTH_HTTP_PORT" --tls_cert="$pki/server.crt" --tls_key="$pki/server.key" \
    --tls_client_ca="$pki/ca.crt" \
    --public_server="$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')" \
    --trusted_proxies=127.0.0.1 >"$logs/labkube-authenticator.log" 2>&1 &
  echo $! >"$run/labkube-authenticator.pid"
  wait_ready "https://127.0.0.1:$AUTH_HTTP_PORT/readyz" labkube-authenticator
  log "authenticator ready: grpc 127.0.0.1:$AUTH_GRPC_PORT"
}

start_gateway() {
  local bin=$bin_dir/services/gateway/gateway
  [[ -x $bin ]] || { log "gateway not built (bazel build //services/gateway:gateway)"; return; }
  running labkube-gateway && return
  local kc
  kc=$(sa_kubeconfig labkube-gateway)
  "$bin" --kubeconfig="$kc" --grpc_address="127.0.0.1:$GATEWAY_GRPC_PORT" --http_address=127.0.0.1 \
    --http_port="$GATEWAY_HTTP_PORT" --tls_cert="$pki/server.crt" --tls_key="$pki/server.key" \
    --scheduler="127.0.0.1:$SCHEDULER_GRPC_PORT" --scheduler_ca="$pki/ca.crt" \
    --client_cert="$pki/labkube-gateway.crt" --client_key="$pki/labkube-gateway.key" \
    --authenticator="127.0.0.1:$AUTH_GRPC_PORT" --authenticator_ca="$pki/ca.crt" \
    --url_scheme=http >"$logs/labkube-gateway.log" 2>&1 &
  echo $! >"$run/labkube-gateway.pid"
  wait_ready "https://127.0.0.1:$GATEWAY_HTTP_PORT/readyz" labkube-gateway
  log "gateway ready: grpc 127.0.0.1:$GATEWAY_GRPC_PORT"
}

# Demo accounts, created once; their passwords go to a 0600 file and are printed once.
demo_accounts() {
  local creds=$state/credentials.yaml bin=$bin_dir/services/authenticator/labkube-authenticator
  [[ -f $creds || ! -x $bin ]] && return
  local admin_pw member_pw token
  admin_pw=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-16)
  member_pw=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-16)
  printf '%s\n' "$admin_pw" | "$bin" bootstrap-admin --name=admin --password-stdin \
    --kubeconfig="$LABKUBE_KUBECONFIG" >/dev/null 2>&1 || die "bootstrap-admin failed"
  token=$("$GRPCURL" -cacert "$pki/ca.crt" -cert "$pki/labkube-admin.crt" -key "$pki/labkube-admin.key" -d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" \
    "127.0.0.1:$AUTH_GRPC_PORT" labkube.auth.v1alpha1.Authenticator/Login |
    sed -n 's/.*"access_token": "\([^"]*\)".*/\1/p')
  [[ -n $token ]] || die "demo admin could not log in; see $logs/labkube-authenticator.log"
  "$GRPCURL" -cacert "$pki/ca.crt" -cert "$pki/labkube-admin.crt" -key "$pki/labkube-admin.key" \
    -H "authorization: Bearer $token" \
    -d "{\"name\":\"alice\",\"password\":\"$member_pw\"}" "127.0.0.1:$AUTH_GRPC_PORT" \
    labkube.auth.v1alpha1.Authenticator/CreateMember >/dev/null || die "creating demo member failed"
  (umask 077 && printf 'admin: {username: admin, password: %s}\nmember: {username: alice, password: %s}\n' \
    "$admin_pw" "$member_pw" >"$creds")
  log "demo accounts (shown once): admin/$admin_pw, alice/$member_pw"
}

# The local lab's volume pool (k8s/examples/storage-local-lab.yaml): keeps $1 Available hostPath
# PersistentVolumes per class; Released ones (their claim was deleted) are replaced.
local_volumes() {
  local want=$1 class have released i name pvs=""
  k apply -f "$root/k8s/examples/storage-local-lab.yaml" >/dev/null
  for class in cephfs nfs; do
    released=$(k get pv -l labkube.io/local-pool="$class" \
      -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}')
    [[ -z $released ]] || k delete pv $released --wait=false >/dev/null
    have=$(k get pv -l labkube.io/local-pool="$class" \
      -o jsonpath='{range .items[?(@.status.phase=="Available")]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
    for ((i = have; i < want; i++)); do
      name=local-$class-$(openssl rand -hex 4)
      pvs+=$(cat <<PV
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: $name, labels: {labkube.io/local-pool: $class}}
spec:
  storageClassName: $class
  capacity: {storage: 200Gi}
  accessModes: [ReadWriteMany, ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /var/lib/labkube-local/$name}
PV
)$'\n'
    done
  done
  [[ -z $pvs ]] || k apply -f - <<<"$pvs" >/dev/null
}

cmd_up() {
  ensure_ports
  ensure_pki
  local who
  for who in labkube-injector labkube-gateway labkube-admin; do client_cert "$who"; done
  apply_manifests
  start_scheduler
  start_injector
  start_authenticator
  start_gateway
  demo_accounts
  k apply -f "$root/k8s/examples/machine-local-lab.yaml" >/dev/null
  local_volumes "${LABKUBE_LOCAL_VOLUMES:-6}"
}

cmd_down() {
  local name pid
  for name in labkube-gateway labkube-authenticator labkube-injector labkube-scheduler; do
    running "$name" || continue
    pid=$(cat "$run/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$run/$name.pid"
  done
}

cmd_status() {
  ensure_ports
  local name rc=0
  for name in labkube-scheduler labkube-injector labkube-authenticator labkube-gateway; do
    if running "$name"; then
      echo "$name running pid $(cat "$run/$name.pid")"
    else
      echo "$name stopped"
      rc=1
    fi
  done
  echo "scheduler grpc 127.0.0.1:$SCHEDULER_GRPC_PORT metrics :$SCHEDULER_HTTP_PORT; injector :$INJECTOR_PORT"
  return $rc
}

cmd_env() {
  ensure_ports
  echo "LABKUBE_CA=$pki/ca.crt"
  echo "LABKUBE_SCHEDULER=127.0.0.1:$SCHEDULER_GRPC_PORT"
  # An admin's client certificate for grpcurl against the scheduler (mutual TLS).
  echo "LABKUBE_ADMIN_CERT=$pki/labkube-admin.crt"
  echo "LABKUBE_ADMIN_KEY=$pki/labkube-admin.key"
  echo "LABKUBE_AUTHENTICATOR=127.0.0.1:$AUTH_GRPC_PORT"
  echo "LABKUBE_CREDENTIALS=$state/credentials.yaml"
  echo "LABKUBE_GATEWAY=127.0.0.1:$GATEWAY_GRPC_PORT"
  echo "LABKUBE_INJECTOR=127.0.0.1:$INJECTOR_PORT"
  echo "LABCTL=$bin_dir/clients/cli/labctl"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  volumes) local_volumes "${2:-6}" ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
