#!/usr/bin/env bash
# One real worker node for the local lab, beside kwok's fake GPU nodes: containerd + runc + bridge
# CNI, kubelet, kube-proxy and cluster DNS (CoreDNS on the host behind the kube-system/kube-dns
# Service), joined to the control plane of tests/cluster/cluster.sh (same $LABKUBE_STATE).
# The node carries the label and taint labkube.io/system-node=true (NoSchedule): only pods that
# tolerate it run there. Needs root, and the control plane up.
#
#   node.sh up                  start whatever is not running (idempotent); waits for Node Ready and
#                               cluster DNS; prints phase times
#   node.sh down [--purge]      delete the node's pods through the API, stop everything, undo every
#                               host change (mounts, bridge, iptables/nft, cgroups, sysctls, fixed
#                               paths), then check nothing is left; --purge also deletes state/node
#   node.sh status              components and pids; exit 0 if all run
#   node.sh env                 KEY=value lines for scripts to eval (LABKUBE_NODE_NAME, ...)
#   node.sh import ARCHIVE[=REPO]...   import OCI/docker archives into the node's containerd
#                               (=REPO: base name for archives whose refs are bare tags)
#   node.sh image BINARY REF OUT.tar [ENTRYPOINT...]   make a one-binary OCI archive (umoci)
#
# Layout: $LABKUBE_STATE/node/{containerd,kubelet,cni,pki,images,...}; logs in $LABKUBE_STATE/logs,
# pids in $LABKUBE_STATE/run, like cluster.sh. Some paths are fixed by kubelet/containerd/CNI
# whatever the roots (/var/lib/kubelet/device-plugins, /var/log/containers, /var/lib/cni,
# /run/containerd/s, /run/netns) and so are the kubelet's ports: one node per host.
#
# Environment: LABKUBE_STATE, LABKUBE_CACHE (as cluster.sh), LABKUBE_NODE_NAME (labkube-node),
# LABKUBE_NODE_IP (default: the address of the default route), LABKUBE_NODE_POD_CIDR
# (10.88.0.0/24), LABKUBE_CLUSTER_DNS (10.96.0.10), LABKUBE_NODE_TIMEOUT (seconds, default 120).
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
here=$(dirname "$self")
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"

cache=${LABKUBE_CACHE:-$HOME/.cache/labkube}
state=${LABKUBE_STATE:-$cache/state}
mkdir -p "$state"
state=$(cd "$state" && pwd)
pki=$state/pki
logs=$state/logs
run=$state/run
admin_kubeconfig=$state/kubeconfig
node=$state/node
timeout=${LABKUBE_NODE_TIMEOUT:-120}

node_name=${LABKUBE_NODE_NAME:-labkube-node}
pod_cidr=${LABKUBE_NODE_POD_CIDR:-10.88.0.0/24}
cluster_dns=${LABKUBE_CLUSTER_DNS:-10.96.0.10}
# The Service range is cluster.sh's (kube-apiserver --service-cluster-ip-range).
service_cidr=$(sed -n 's/^service_cidr=//p' "$here/cluster.sh")
# kwok's fake pod IPs (cluster.sh): Services may point at them; they must not leave the host.
kwok_cidr=10.244.0.0/16
cluster_domain=cluster.local
bridge=lk-cni0
cni_network=labkube-node
pause_image=labkube.local/pause:1
system_label=labkube.io/system-node
guard_chain=LABKUBE-NODE-GUARD
# Who holds this host's node (fixed paths and ports allow one): the owning state folder.
host_owner=/run/labkube-node.owner

containerd_dir=$node/containerd
containerd_sock=$containerd_dir/containerd.sock
kubelet_root=$node/kubelet
pod_logs=$node/pod-logs
cni_conf_dir=$node/cni/net.d

# Paths outside $node that the kubelet, containerd and the CNI plugins use whatever their roots.
fixed_paths=(/var/lib/kubelet/device-plugins/kubelet.sock /var/lib/kubelet/device-plugins
  /var/lib/kubelet /var/log/containers /var/lib/cni/results /var/lib/cni /run/containerd/s
  /run/containerd)
# Sysctls the kubelet, kube-proxy or the bridge plugin may set; `down` puts back what `up` found.
sysctls=(net.ipv4.ip_forward net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables vm.overcommit_memory vm.panic_on_oom kernel.panic
  kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Ports: kubelet 10250 (node IP), 10248 (healthz); kube-proxy 10249 (metrics), 10256 (healthz); DNS.
node_ports=(10250 10248 10249 10256 53)

components=(containerd kubelet kube-proxy coredns)

log() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

# binary NAME: the cached upstream binary (versions.env); containerd is Debian's.
binary() {
  local version
  [[ $1 == containerd ]] && { command -v containerd; return; }
  version=$(upstream_version "$1") || die "versions.env does not list $1"
  printf '%s/bin/%s-%s' "$cache" "$1" "$version"
}

kubectl() { "$(binary kubectl)" --kubeconfig "$admin_kubeconfig" "$@"; }
ctr() { command ctr --address "$containerd_sock" --namespace k8s.io "$@"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
fmt_ms() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

# ---------------------------------------------------------------------------------------------
# Host facts

default_iface() { ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }'; }

node_ip() {
  if [[ -n ${LABKUBE_NODE_IP:-} ]]; then echo "$LABKUBE_NODE_IP"; return; fi
  local dev
  dev=$(default_iface)
  [[ -n $dev ]] || die "no default route: set LABKUBE_NODE_IP (the node IP cannot be loopback)"
  ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}'
}

read_ports() {
  APISERVER_PORT=''
  # shellcheck source=/dev/null
  [[ -f $state/ports.env ]] && source "$state/ports.env"
  return 0
}

apiserver_ready() {
  [[ -n $APISERVER_PORT ]] && [[ $(curl -fsS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
    --key "$pki/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null) == ok ]]
}

# in_cidr IP CIDR: IPv4 IP lies in CIDR.
ip_to_int() { local IFS=. a; read -ra a <<<"$1"; echo $(((a[0] << 24) + (a[1] << 16) + (a[2] << 8) + a[3])); }
in_cidr() {
  local net=${2%/*} bits=${2#*/} mask
  mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
  [[ $(($(ip_to_int "$1") & mask)) == $(($(ip_to_int "$net") & mask)) ]]
}

# ---------------------------------------------------------------------------------------------
# Processes (pid files in $run, logs in $logs, like cluster.sh)

pid_of() { [[ -f $run/$1.pid ]] && cat "$run/$1.pid"; }

# alive PID NAME: a live, non-zombie process running NAME's binary.
alive() {
  local pid=$1 exe st
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $st != Z ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ $exe == "$(binary "$2")"* ]]
}

is_running() { local pid; pid=$(pid_of "$1") && alive "$pid" "$1"; }

# launch NAME ARGS...: starts NAME in a session of its own (it outlives this shell).
launch() {
  local name=$1 log_file=$logs/$1.log
  shift
  [[ -f $log_file ]] && mv -f "$log_file" "$log_file.1"
  setsid "$(binary "$name")" "$@" </dev/null >"$log_file" 2>&1 9>&- &
  echo $! >"$run/$name.pid"
}

# stop NAME: SIGTERM, SIGKILL after 10 s.
stop() {
  local name=$1 pid i
  if pid=$(pid_of "$name") && alive "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do alive "$pid" "$name" || break; sleep 0.1; done
    if alive "$pid" "$name"; then
      log "$name ($pid) ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" "$name" || break; sleep 0.1; done
    fi
    log "stopped $name ($pid)"
  fi
  rm -f "$run/$name.pid"
}

# wait_for NAME DESCRIPTION COMMAND...: polls COMMAND until the deadline; fails early if NAME
# (unless "-") exits.
wait_for() {
  local name=$1 what=$2
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    if [[ $name != - ]] && ! is_running "$name"; then
      tail -n 30 "$logs/$name.log" >&2 || true
      die "$name exited while waiting for $what (log: $logs/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      [[ $name == - ]] || tail -n 30 "$logs/$name.log" >&2 || true
      die "timed out after ${timeout}s waiting for $what"
    fi
    sleep 0.2
  done
}

port_listening() { [[ -n $(ss -Hln "( sport = :$1 )" 2>/dev/null) ]]; }

# ---------------------------------------------------------------------------------------------
# Certificates (signed by cluster.sh's CA, like its own) and kubeconfigs

gen_cert() {
  local name=$1 subject=$2 ext=$3 dir=$node/pki
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/$name.key" 2>/dev/null
  openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$dir/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "$dir/$name.ext" \
    -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'

# cert_ok NAME [SAN]: exists, signed by the current CA, and (for the serving cert) names SAN.
cert_ok() {
  local crt=$node/pki/$1.crt
  [[ -f $crt && -f $node/pki/$1.key ]] || return 1
  openssl verify -CAfile "$pki/ca.crt" "$crt" >/dev/null 2>&1 || return 1
  [[ -z ${2:-} ]] || openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | grep -q "$2"
}

ensure_pki() {
  mkdir -p "$node/pki"
  chmod 700 "$node/pki"
  cert_ok kubelet-client || gen_cert kubelet-client "/O=system:nodes/CN=system:node:$node_name" "$client_ext"
  cert_ok kubelet-serving "IP Address:$ip," || cert_ok kubelet-serving "IP Address:$ip\$" ||
    gen_cert kubelet-serving "/CN=$node_name" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$ip,DNS:$node_name"
  cert_ok kube-proxy || gen_cert kube-proxy "/CN=system:kube-proxy" "$client_ext"
  cert_ok coredns || gen_cert coredns "/CN=labkube:coredns" "$client_ext"
}

# write_kubeconfig FILE CERT_NAME
write_kubeconfig() {
  local file=$1 cert=$2
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
- name: $cert
  user:
    client-certificate-data: $(base64 -w0 "$node/pki/$cert.crt")
    client-key-data: $(base64 -w0 "$node/pki/$cert.key")
contexts:
- name: $cert
  context:
    cluster: labkube-local
    user: $cert
current-context: $cert
EOF
    mv "$file.tmp" "$file"
  )
}

# ---------------------------------------------------------------------------------------------
# Configuration files

write_configs() {
  mkdir -p "$containerd_dir" "$kubelet_root" "$pod_logs" "$cni_conf_dir" "$node/cni/ipam" \
    "$node/volume-plugins"
  local kc
  for kc in kubelet-client kube-proxy coredns; do write_kubeconfig "$node/$kc.kubeconfig" "$kc"; done

  cat >"$containerd_dir/config.toml" <<EOF
version = 2
root = "$containerd_dir/root"
state = "$containerd_dir/state"
# Plugins that would write outside root/state (/opt/containerd) or that this host has no use for.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$containerd_sock"
[ttrpc]
  address = "$containerd_sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below the parent's.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$containerd_dir/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$cni_conf_dir"
    max_conf_num = 1
EOF

  # No ipMasq (pods have nowhere outside to go) and no portmap: neither leaves chains behind.
  cat >"$cni_conf_dir/10-$cni_network.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$cni_network",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$node/cni/ipam"
      }
    }
  ]
}
EOF

  cat >"$node/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
containerRuntimeEndpoint: unix://$containerd_sock
# cgroup v1 hosts, PID 1 is not systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $pki/ca.crt
authorization:
  mode: Webhook
tlsCertFile: $node/pki/kubelet-serving.crt
tlsPrivateKeyFile: $node/pki/kubelet-serving.key
rotateCertificates: false
serverTLSBootstrap: false
clusterDNS: [$cluster_dns]
clusterDomain: $cluster_domain
# Pods get the cluster DNS only, never the host's resolvers.
resolvConf: ""
registerNode: true
registerWithTaints:
- key: $system_label
  value: "true"
  effect: NoSchedule
podLogsDir: $pod_logs
volumePluginDir: $node/volume-plugins
maxPods: 50
# Small disks: no pressure until the disk is nearly full, and no image GC of the local-only images
# (they cannot be pulled again) before then.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
shutdownGracePeriod: 0s
EOF

  cat >"$node/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $node/kube-proxy.kubeconfig
hostnameOverride: $node_name
bindAddress: $ip
mode: iptables
clusterCIDR: $pod_cidr
# NodePorts on the node IP only, not on 127.0.0.1 (no route_localnet): the other control planes'
# loopback ports sit in the NodePort range.
nodePortAddresses: ["$ip/32"]
iptables:
  localhostNodePorts: false
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
# Leave the host's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF

  # CoreDNS answers the cluster's zones only: there is no upstream for pods to reach.
  cat >"$node/Corefile" <<EOF
.:53 {
    bind $ip
    errors
    kubernetes $cluster_domain in-addr.arpa ip6.arpa {
        kubeconfig $node/coredns.kubeconfig coredns
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loadbalance
}
EOF
}

# ---------------------------------------------------------------------------------------------
# Images

# make_image BINARY REF OUT [ENTRYPOINT...]: OCI archive OUT holding BINARY as /NAME (umoci).
make_image() {
  local binary=$1 ref=$2 out=$3 work name
  shift 3
  name=$(basename "$binary")
  (($# > 0)) || set -- "/$name"
  work=$(mktemp -d)
  (
    set -e
    umoci init --layout "$work/layout"
    umoci new --image "$work/layout:$ref"
    umoci insert --image "$work/layout:$ref" "$binary" "/$name"
    local args=()
    for a in "$@"; do args+=(--config.entrypoint "$a"); done
    umoci config --image "$work/layout:$ref" "${args[@]}" --config.user 65535:65535 \
      --config.workingdir / --architecture amd64 --os linux
    umoci gc --layout "$work/layout"
    tar -C "$work/layout" -cf "$out.tmp" .
    mv "$out.tmp" "$out"
  ) >/dev/null || { rm -rf "$work"; die "making image $ref from $binary failed"; }
  rm -rf "$work"
}

# ensure_pause_image: the sandbox image, compiled from pause/pause.c and imported (once per build).
ensure_pause_image() {
  local dir=$node/images src=$here/pause/pause.c
  mkdir -p "$dir"
  if [[ ! -f $dir/pause.tar || $src -nt $dir/pause.tar ]]; then
    gcc -static -Os -s -Wall -o "$dir/pause" "$src" || die "compiling $src failed"
    make_image "$dir/pause" "$pause_image" "$dir/pause.tar" /pause
    rm -f "$dir/pause.imported"
  fi
  if [[ ! -f $dir/pause.imported ]] || ! ctr images check "name==$pause_image" 2>/dev/null | grep -q complete; then
    import_archives "$dir/pause.tar"
    touch "$dir/pause.imported"
  fi
}

# import_archives ARCHIVE[=REPO]...
import_archives() {
  local spec archive repo out
  for spec in "$@"; do
    archive=${spec%%=*} repo=''
    [[ $spec == *=* ]] && repo=${spec#*=}
    [[ -f $archive ]] || die "no such archive: $archive"
    if [[ -n $repo ]]; then
      out=$(ctr images import --base-name "$repo" "$archive" 2>&1) || die "importing $archive: $out"
    else
      out=$(ctr images import "$archive" 2>&1) || die "importing $archive: $out"
    fi
    printf '%s\n' "$out" | sed -n 's/^unpacking \([^ ]*\) .*/\1/p' | while read -r ref; do
      log "imported $ref from $archive"
    done
  done
}

# ---------------------------------------------------------------------------------------------
# API objects: cluster DNS Service + EndpointSlice at the node IP, CoreDNS's read access.

apply_dns_objects() {
  kubectl apply --server-side --force-conflicts --field-manager=labkube-node -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: labkube:coredns
  labels: {$system_label: "true"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: labkube:coredns
  labels: {$system_label: "true"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "labkube:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "labkube:coredns"}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, $system_label: "true"}
spec:
  clusterIP: $cluster_dns
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-$node_name
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: labkube.io-node-sh
    $system_label: "true"
addressType: IPv4
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
endpoints:
- addresses: [$ip]
  conditions: {ready: true}
  nodeName: $node_name
EOF
}

delete_dns_objects() {
  kubectl delete --ignore-not-found --wait=false -n kube-system service/kube-dns \
    "endpointslice.discovery.k8s.io/kube-dns-$node_name" >/dev/null 2>&1 || true
  kubectl delete --ignore-not-found clusterrolebinding/labkube:coredns clusterrole/labkube:coredns \
    >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# Host network guard: the lab's virtual ranges (Services, pods, kwok's fake pods) never leave
# through the default route, whatever is or is not programmed yet.

guard_add() {
  local dev
  dev=$(default_iface)
  [[ -n $dev ]] || return 0
  # In POSTROUTING (mangle): there -o is the device a packet really leaves by, after the
  # kube-proxy DNAT rerouted it (in OUTPUT, -o still names the device of the first route).
  iptables -w -t mangle -N "$guard_chain" 2>/dev/null || iptables -w -t mangle -F "$guard_chain"
  local cidr
  for cidr in "$service_cidr" "$kwok_cidr" "$pod_cidr"; do
    iptables -w -t mangle -A "$guard_chain" -o "$dev" -d "$cidr" -j DROP
  done
  iptables -w -t mangle -A "$guard_chain" -o "$dev" -s "$pod_cidr" -j DROP
  iptables -w -t mangle -C POSTROUTING -j "$guard_chain" 2>/dev/null ||
    iptables -w -t mangle -I POSTROUTING -j "$guard_chain"
}

guard_remove() {
  while iptables -w -t mangle -D POSTROUTING -j "$guard_chain" 2>/dev/null; do :; done
  iptables -w -t mangle -F "$guard_chain" 2>/dev/null || true
  iptables -w -t mangle -X "$guard_chain" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Readiness checks

containerd_ready() { ctr plugins ls 2>/dev/null | awk '$2 == "cri" && $4 == "ok"' | grep -q .; }

node_ready() {
  [[ $(kubectl get node "$node_name" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

proxy_ready() { curl -fsS --max-time 2 http://127.0.0.1:10256/healthz >/dev/null; }

# dns_answers SERVER: SERVER resolves kubernetes.default.svc to the `kubernetes` Service's IP.
dns_answers() {
  local want got
  want=$(kubectl get service kubernetes -n default -o 'jsonpath={.spec.clusterIP}' 2>/dev/null) || return 1
  got=$("$node/images/probe" resolve "$1" "kubernetes.default.svc.$cluster_domain" 2>/dev/null) || return 1
  [[ $got == *"-> $want"* ]]
}

# ---------------------------------------------------------------------------------------------
# up

check_host() {
  ((EUID == 0)) || die "node.sh needs root (containerd, kubelet, iptables)"
  local tool
  for tool in containerd containerd-shim-runc-v2 runc ctr iptables nft conntrack umoci gcc ip ss curl openssl; do
    command -v "$tool" >/dev/null || die "$tool is missing: ./dev.sh deps installs the node's Debian packages"
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] ||
    die "CNI plugins missing in /usr/lib/cni (Debian package containernetworking-plugins)"
  local name missing=()
  for name in kubelet kube-proxy coredns kubectl; do [[ -x $(binary "$name") ]] || missing+=("$name"); done
  if ((${#missing[@]})); then
    log "building ${missing[*]} (build-binaries.sh; slow the first time)"
    LABKUBE_CACHE=$cache "$here/build-binaries.sh" "${missing[@]}"
  fi
}

check_owner() {
  local owner
  owner=$(cat "$host_owner" 2>/dev/null) || return 0
  [[ $owner == "$state" ]] && return 0
  if [[ -d $owner ]] && pgrep -f -- "--config $owner/node/containerd/config.toml" >/dev/null; then
    die "the node of $owner is up on this host (one node per host): LABKUBE_STATE=$owner node.sh down"
  fi
}

save_sysctls() {
  [[ -f $node/sysctl.saved ]] && return 0
  local s v
  for s in "${sysctls[@]}"; do
    v=$(sysctl -n "$s" 2>/dev/null) || continue
    printf '%s=%s\n' "$s" "$v"
  done >"$node/sysctl.saved.tmp"
  mv "$node/sysctl.saved.tmp" "$node/sysctl.saved"
}

# record_fixed_paths: which fixed paths existed before the first `up` (down removes only the others).
record_fixed_paths() {
  [[ -f $node/fixed-paths.before ]] && return 0
  local p
  for p in "${fixed_paths[@]}"; do
    if [[ -e $p || -L $p ]]; then echo "$p"; fi
  done >"$node/fixed-paths.before"
  # iptables-nft makes its tables (ip filter, ip6 nat, ...) on first use; down removes the new
  # ones again once they hold no rule.
  nft list tables 2>/dev/null | sed 's/^table //' >"$node/nft-tables.before" || true
}

# new_nft_tables: "FAMILY NAME" of the nft tables that were not there before the first `up`.
new_nft_tables() {
  [[ -f $node/nft-tables.before ]] || return 0
  nft list tables 2>/dev/null | sed 's/^table //' | grep -vxF -f "$node/nft-tables.before" || true
}

phase_names=() phase_ms=() phase_t0=0
phase_done() { phase_names+=("$1"); phase_ms+=($(($(now_ms) - phase_t0))); phase_t0=$(now_ms); }

cmd_up() {
  local t_start
  t_start=$(now_ms) phase_t0=$t_start
  deadline=$((SECONDS + timeout))
  check_host
  read_ports
  apiserver_ready || die "the control plane is not up (LABKUBE_STATE=$state): tests/cluster/cluster.sh up"
  mkdir -p "$node" "$logs" "$run"
  exec 9>"$node/.lock"
  flock -w "$timeout" 9 || die "another node.sh holds $node/.lock"
  check_owner
  echo "$state" >"$host_owner"
  ip=$(node_ip)
  [[ -n $ip && $ip != 127.* ]] || die "node IP '$ip' is empty or loopback: set LABKUBE_NODE_IP"
  in_cidr "$cluster_dns" "$service_cidr" ||
    die "cluster DNS $cluster_dns is outside the Service range $service_cidr (cluster.sh)"
  save_sysctls
  record_fixed_paths
  ensure_pki
  write_configs
  if [[ ! -x $node/images/probe || $here/pause/probe.c -nt $node/images/probe ]]; then
    mkdir -p "$node/images"
    gcc -static -Os -s -Wall -o "$node/images/probe" "$here/pause/probe.c" || die "compiling probe.c failed"
  fi
  guard_add
  local name
  for name in "${components[@]}"; do
    is_running "$name" && continue
    for port in $(ports_of "$name"); do
      port_listening "$port" && die "port $port for $name is taken: $(ss -Hlnp "( sport = :$port )")"
    done
  done
  phase_done prepare

  if ! is_running containerd; then
    launch containerd --config "$containerd_dir/config.toml"
  fi
  wait_for containerd "containerd's CRI plugin" containerd_ready
  phase_done containerd
  ensure_pause_image
  phase_done "pause image"

  apply_dns_objects
  if ! is_running kubelet; then
    # A Node object left by a down without the API server would show its old Ready status.
    kubectl delete node "$node_name" --ignore-not-found >/dev/null
    launch kubelet --config="$node/kubelet-config.yaml" --kubeconfig="$node/kubelet-client.kubeconfig" \
      --root-dir="$kubelet_root" --hostname-override="$node_name" --node-ip="$ip" \
      --node-labels="$system_label=true"
  fi
  wait_for kubelet "Node $node_name Ready" node_ready
  phase_done "kubelet Ready"

  if ! is_running kube-proxy; then
    launch kube-proxy --config="$node/kube-proxy-config.yaml"
  fi
  wait_for kube-proxy "kube-proxy healthz (rules synced)" proxy_ready
  phase_done kube-proxy

  if ! is_running coredns; then
    launch coredns -conf "$node/Corefile"
  fi
  wait_for coredns "CoreDNS answering on $ip" dns_answers "$ip"
  wait_for coredns "cluster DNS $cluster_dns (kube-proxy to CoreDNS)" dns_answers "$cluster_dns"
  phase_done "cluster DNS"

  for name in "${components[@]}"; do
    is_running "$name" || { tail -n 30 "$logs/$name.log" >&2; die "$name exited (log: $logs/$name.log)"; }
  done
  local i line=""
  for i in "${!phase_names[@]}"; do line+="${line:+, }${phase_names[i]} $(fmt_ms "${phase_ms[i]}")"; done
  log "node $node_name ($ip) Ready in $(fmt_ms $(($(now_ms) - t_start))): $line"
  log "taint $system_label=true:NoSchedule; cluster DNS $cluster_dns; logs in $logs"
}

ports_of() {
  case $1 in
    kubelet) echo 10250 10248 ;;
    kube-proxy) echo 10249 10256 ;;
    coredns) echo 53 ;;
    *) ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# down

api_up() { read_ports; apiserver_ready; }

pods_on_node() { kubectl get pods -A --field-selector "spec.nodeName=$node_name" -o name 2>/dev/null; }
no_pods_on_node() { [[ -z $(pods_on_node) ]]; }

delete_pods() {
  kubectl get node "$node_name" >/dev/null 2>&1 || return 0
  kubectl cordon "$node_name" >/dev/null 2>&1 || true
  [[ -n $(pods_on_node) ]] || return 0
  log "deleting the pods on $node_name"
  kubectl delete pods -A --field-selector "spec.nodeName=$node_name" --wait=false \
    --grace-period="${LABKUBE_NODE_GRACE:-10}" >/dev/null 2>&1 || true
  local until=$((SECONDS + ${LABKUBE_NODE_GRACE:-10} + 30))
  while ((SECONDS < until)); do
    no_pods_on_node && return 0
    is_running kubelet || break
    sleep 0.2
  done
  log "WARNING: pods still on $node_name: $(pods_on_node | tr '\n' ' '): force-deleting"
  kubectl delete pods -A --field-selector "spec.nodeName=$node_name" --force --grace-period=0 \
    >/dev/null 2>&1 || true
}

# our_shims: containerd shims serving our containerd (by its socket path).
our_shims() {
  local pid
  for pid in $(pgrep -x containerd-shim || true; pgrep -f '^/usr/bin/containerd-shim-runc-v2 ' || true); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address $containerd_sock " && echo "$pid"
  done
  return 0
}

kubepods_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do [[ -d $d ]] && echo "$d"; done
  return 0
}

stop_containers() {
  # Whatever the kubelet did not tear down: tasks, then containers, through containerd.
  if is_running containerd; then
    local id
    for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr containers ls -q 2>/dev/null); do ctr containers delete "$id" >/dev/null 2>&1 || true; done
  fi
}

kill_leftover_processes() {
  local pids pid cg i
  # Processes still in the kubelet's pod cgroups (the node's containers), then our shims.
  for ((i = 0; i < 50; i++)); do
    pids=$(for cg in $(kubepods_cgroups); do find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u)
    pids+=" $(our_shims)"
    [[ -n ${pids// /} ]] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  log "WARNING: processes survive SIGKILL: $pids"
}

# node_mounts: mount points under $node and containerd's netns mounts, deepest first.
node_mounts() {
  awk '{print $5}' /proc/self/mountinfo | sed 's/\\040/ /g' |
    awk -v n="$node/" -v k="$kubelet_root" '
      index($0, n) == 1 || $0 == k || $0 ~ "^/run/netns/cni-" || $0 ~ "^/var/run/netns/cni-" ||
      $0 ~ "^/var/lib/kubelet" || $0 ~ "^/run/containerd/" { print length($0) "\t" $0 }' |
    sort -rn | cut -f2- | awk '!seen[$0]++'
  return 0
}

unmount_all() {
  local m i
  for ((i = 0; i < 5; i++)); do
    [[ -n $(node_mounts) ]] || return 0
    while IFS= read -r m; do
      [[ -n $m ]] || continue
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(node_mounts)
  done
}

remove_network() {
  local v
  for v in $(ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$v" 2>/dev/null || true
  done
  ip link delete "$bridge" 2>/dev/null || true
  local ns
  for ns in /run/netns/cni-*; do
    [[ -e $ns ]] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  rmdir /run/netns 2>/dev/null || true
}

restore_sysctls() {
  [[ -f $node/sysctl.saved ]] || return 0
  local line
  while IFS= read -r line; do
    [[ $(sysctl -n "${line%%=*}" 2>/dev/null) == "${line#*=}" ]] ||
      sysctl -q -w "$line" >/dev/null 2>&1 || log "WARNING: could not restore $line"
  done <"$node/sysctl.saved"
}

# remove_chains: kube-proxy's own cleanup (iptables + nft), then the kubelet's KUBE-* chains.
remove_chains() {
  "$(binary kube-proxy)" --cleanup >"$logs/kube-proxy-cleanup.log" 2>&1 || true
  local ipt table rule chain
  for ipt in iptables ip6tables; do
    for table in filter nat mangle; do
      # Jumps from the built-in chains into KUBE-* chains, then the chains themselves.
      $ipt -w -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -vE '^-A KUBE-' |
        while IFS= read -r rule; do
          # shellcheck disable=SC2086
          eval "$ipt -w -t $table -D ${rule#-A }" 2>/dev/null || true
        done || true
      for chain in $($ipt -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        $ipt -w -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $($ipt -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        $ipt -w -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  guard_remove
  local fam t
  for fam in ip ip6; do nft delete table "$fam" kube-proxy 2>/dev/null || true; done
  new_nft_tables | while read -r fam t; do
    # shellcheck disable=SC2086
    nft -j list table "$fam" "$t" 2>/dev/null | grep -q '"rule"' || nft delete table "$fam" "$t" 2>/dev/null || true
  done
}

remove_cgroups() {
  local cg d
  for cg in $(kubepods_cgroups); do
    find "$cg" -depth -type d -print 2>/dev/null | while IFS= read -r d; do rmdir "$d" 2>/dev/null || true; done || true
  done
}

remove_fixed_paths() {
  local before p
  before=$(cat "$node/fixed-paths.before" 2>/dev/null || true)
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock
  # The kubelet's symlinks into our pod logs; CNI results of our network.
  find /var/log/containers -maxdepth 1 -type l -lname "$pod_logs/*" -delete 2>/dev/null || true
  # (containerd names the pods' loopback network cni-loopback)
  rm -f /var/lib/cni/results/"$cni_network"-* /var/lib/cni/results/cni-loopback-* 2>/dev/null || true
  for p in "${fixed_paths[@]}"; do
    [[ -e $p || -L $p ]] || continue
    grep -qxF "$p" <<<"$before" && continue
    if [[ -d $p && ! -L $p ]]; then
      # Shim sockets are files in /run/containerd/s; remove only when no containerd runs.
      if [[ $p == /run/containerd/s ]] && ! pgrep -x containerd >/dev/null; then
        rm -rf "$p"
      else
        rmdir "$p" 2>/dev/null || true
      fi
    else
      rm -f "$p"
    fi
  done
}

# leftovers: prints one line per thing `down` should have removed; empty if none.
leftovers() {
  local name pid
  for name in "${components[@]}"; do
    pid=$(pid_of "$name" 2>/dev/null) && alive "$pid" "$name" && echo "process $name ($pid)"
  done
  for name in kubelet kube-proxy coredns; do
    pgrep -f "^$(binary "$name") " >/dev/null && echo "process $(binary "$name"): $(pgrep -f "^$(binary "$name") " | tr '\n' ' ')"
  done
  pgrep -f -- "--config $containerd_dir/config.toml" >/dev/null && echo "process containerd --config $containerd_dir/config.toml"
  for pid in $(our_shims); do echo "process containerd-shim ($pid)"; done
  local m
  while IFS= read -r m; do [[ -n $m ]] && echo "mount $m"; done < <(node_mounts)
  ip link show "$bridge" >/dev/null 2>&1 && echo "interface $bridge"
  ip -o link show type veth 2>/dev/null | awk -F': ' '{print "interface " $2}'
  local ipt table
  for ipt in iptables ip6tables; do
    for table in filter nat mangle; do
      $ipt -w -t "$table" -S 2>/dev/null | awk -v t="$ipt $table" \
        '$1 == "-N" && ($2 ~ /^(KUBE-|CNI-)/ || $2 == "'"$guard_chain"'") {print "chain " t " " $2}'
    done
  done
  nft list tables 2>/dev/null | grep -E 'kube-proxy|kubelet' | sed 's/^/nft /'
  new_nft_tables | sed 's/^/nft table (new since up) /'
  for m in $(kubepods_cgroups); do echo "cgroup $m"; done
  local before p
  before=$(cat "$node/fixed-paths.before" 2>/dev/null || true)
  for p in "${fixed_paths[@]}"; do
    [[ -e $p || -L $p ]] && ! grep -qxF "$p" <<<"$before" && echo "path $p"
  done
  for p in /run/netns/cni-*; do [[ -e $p ]] && echo "path $p"; done
  for p in "${node_ports[@]}"; do
    port_listening "$p" && echo "port $p: $(ss -Hlnp "( sport = :$p )" | awk '{print $5, $7}' | head -1)"
  done
  if [[ -f $node/sysctl.saved ]]; then
    local line
    while IFS= read -r line; do
      [[ $(sysctl -n "${line%%=*}" 2>/dev/null) == "${line#*=}" ]] ||
        echo "sysctl ${line%%=*}=$(sysctl -n "${line%%=*}" 2>/dev/null) (was ${line#*=})"
    done <"$node/sysctl.saved"
  fi
  return 0
}

cmd_down() {
  local purge=${1:-} t_start api=0 name
  [[ -z $purge || $purge == --purge ]] || die "usage: node.sh down [--purge]"
  ((EUID == 0)) || die "node.sh needs root"
  t_start=$(now_ms)
  mkdir -p "$node" "$run" "$logs"
  exec 9>"$node/.lock"
  flock -w "$timeout" 9 || die "another node.sh holds $node/.lock"
  if api_up; then api=1; fi
  if ((api)); then
    delete_pods
  else
    log "API server not reachable: the node's containers go through containerd; its Node object and pods stay in the API"
  fi
  local t_pods
  t_pods=$(now_ms)
  for name in coredns kube-proxy kubelet; do stop "$name"; done
  stop_containers
  stop containerd
  kill_leftover_processes
  if ((api)); then
    kubectl delete node "$node_name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    delete_dns_objects
  fi
  unmount_all
  remove_network
  restore_sysctls
  remove_chains
  remove_cgroups
  remove_fixed_paths
  # No pod is left: host-local's reservations go too (else a killed pod's IP stays taken).
  rm -rf "${node:?}/cni/ipam"
  [[ $(cat "$host_owner" 2>/dev/null) == "$state" ]] && rm -f "$host_owner"
  local left
  left=$(leftovers)
  rm -f "$node/sysctl.saved"
  [[ -n $left ]] || rm -f "$node/fixed-paths.before" "$node/nft-tables.before"
  if [[ $purge == --purge && -z $left ]]; then
    rm -rf "$node"
    log "deleted $node"
  fi
  log "node down in $(fmt_ms $(($(now_ms) - t_start))) (pods deleted in $(fmt_ms $((t_pods - t_start))))"
  if [[ -n $left ]]; then
    log "LEFT BEHIND:"
    printf '[node]   %s\n' "$left" | sed '2,$s/^/[node]   /' >&2
    return 1
  fi
  log "nothing left behind (processes, mounts, interfaces, chains, cgroups, paths, ports, sysctls)"
}

# ---------------------------------------------------------------------------------------------

cmd_status() {
  local name all=0
  for name in "${components[@]}"; do
    if is_running "$name"; then
      printf '%-12s running  pid %s\n' "$name" "$(pid_of "$name")"
    else
      printf '%-12s stopped\n' "$name"
      all=1
    fi
  done
  return "$all"
}

cmd_env() {
  local ipaddr
  ipaddr=$(node_ip 2>/dev/null || true)
  printf 'LABKUBE_NODE_NAME=%q\n' "$node_name"
  printf 'LABKUBE_NODE_IP=%q\n' "$ipaddr"
  printf 'LABKUBE_NODE_TAINT=%q\n' "$system_label=true:NoSchedule"
  printf 'LABKUBE_NODE_LABEL=%q\n' "$system_label=true"
  printf 'LABKUBE_NODE_POD_CIDR=%q\n' "$pod_cidr"
  printf 'LABKUBE_CLUSTER_DNS=%q\n' "$cluster_dns"
  printf 'LABKUBE_PAUSE_IMAGE=%q\n' "$pause_image"
  printf 'LABKUBE_NODE_CONTAINERD=%q\n' "$containerd_sock"
  printf 'LABKUBE_NODE_DIR=%q\n' "$node"
  printf 'LABKUBE_NODE_PROBE=%q\n' "$node/images/probe"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    import)
      (($#)) || die "usage: node.sh import ARCHIVE[=REPO]..."
      is_running containerd || die "the node's containerd is not running: node.sh up"
      import_archives "$@" ;;
    image)
      (($# >= 3)) || die "usage: node.sh image BINARY REF OUT.tar [ENTRYPOINT...]"
      make_image "$@" ;;
    *)
      sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2
      exit 2 ;;
  esac
}
main "$@"
