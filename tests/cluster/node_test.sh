#!/usr/bin/env bash
# The local lab's real node (node.sh) end to end, on a control plane of its own:
# cluster.sh up, node.sh up, a pod that tolerates the system-node taint runs a small static program
# (pause/probe.c) on the real node, a ClusterIP Service to it answers from the host (kube-proxy),
# cluster DNS answers from the host and from inside the pod, `kubectl logs` works through the
# API server, then node.sh down and its leave-nothing-behind checks. Needs root.
#
#   node_test.sh          prints PASS name / FAIL name: why lines, then "N passed, N failed"
#
# Environment: LABKUBE_STATE (default /tmp/lk-node-state: never the lab's own state),
# LABKUBE_CACHE, LABKUBE_NODE_TEST_KEEP=1 (leave the node and control plane up at the end).
# shellcheck disable=SC2317 # the checks are functions called through poll
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export LABKUBE_STATE=${LABKUBE_STATE:-/tmp/lk-node-state}
cluster=$here/cluster.sh
nodesh=$here/node.sh
ns=labkube-node-test
passed=0 failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
say() { printf '[node_test] %s\n' "$*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

# poll SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or SECONDS pass.
poll() {
  local until=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || return 1
    sleep 0.2
  done
}

finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
  exit
}

# --- control plane and node -------------------------------------------------------------------
ip_forward_before=$(sysctl -n net.ipv4.ip_forward)
t0=$(now_ms)
mkdir -p "$LABKUBE_STATE"
if ! "$cluster" up --quiet >"$LABKUBE_STATE/cluster-up.log" 2>&1; then
  fail cluster_up "cluster.sh up failed: $(tail -3 "$LABKUBE_STATE/cluster-up.log" | tr '\n' ' ')"
  finish
fi
eval "$("$cluster" env)"
kubectl() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }
say "control plane up in $(secs $(($(now_ms) - t0))) (state $LABKUBE_STATE)"

t0=$(now_ms)
if ! "$nodesh" up 2>"$LABKUBE_STATE/node-up.log"; then
  fail node_up "node.sh up failed: $(grep -m1 ERROR "$LABKUBE_STATE/node-up.log" || tail -1 "$LABKUBE_STATE/node-up.log")"
  "$nodesh" down >/dev/null 2>&1
  finish
fi
node_up_ms=$(($(now_ms) - t0))
grep -F 'Ready in' "$LABKUBE_STATE/node-up.log" >&2
eval "$("$nodesh" env)"
pass node_up

labels=$(kubectl get node "$LABKUBE_NODE_NAME" -o 'jsonpath={.metadata.labels.labkube\.io/system-node} {.spec.taints[*].key}={.spec.taints[*].value}:{.spec.taints[*].effect} {.status.addresses[?(@.type=="InternalIP")].address}')
if [[ $labels == "true labkube.io/system-node=true:NoSchedule $LABKUBE_NODE_IP" ]]; then
  pass node_label_taint_ip
else
  fail node_label_taint_ip "got '$labels'"
fi

# The kubelet answers only the API server's (and other CA-signed, authorized) clients.
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 3 "https://$LABKUBE_NODE_IP:10250/pods")
if [[ $code == 401 ]]; then pass kubelet_rejects_anonymous; else fail kubelet_rejects_anonymous "GET :10250/pods without a certificate gave HTTP $code"; fi

# --- a pod on the real node --------------------------------------------------------------------
probe_tar=$LABKUBE_NODE_DIR/images/probe.tar
if [[ ! -f $probe_tar || $LABKUBE_NODE_PROBE -nt $probe_tar ]]; then
  "$nodesh" image "$LABKUBE_NODE_PROBE" labkube.local/node-probe:1 "$probe_tar" /probe
fi
if "$nodesh" import "$probe_tar" 2>/dev/null; then pass image_import; else fail image_import "node.sh import $probe_tar"; fi

# A namespace left by an earlier run (deleted while the control plane went down) goes first.
kubectl delete namespace "$ns" --ignore-not-found --timeout=60s >/dev/null 2>&1
kubectl create namespace "$ns" >/dev/null
# A pod that does not tolerate the taint must stay off the node (here: Pending or on a kwok node).
manifest() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: $ns, labels: {app: probe}}
spec:
  nodeSelector: {labkube.io/system-node: "true"}
  tolerations: [{key: labkube.io/system-node, operator: Equal, value: "true", effect: NoSchedule}]
  terminationGracePeriodSeconds: 5
  containers:
  - name: probe
    image: labkube.local/node-probe:1
    imagePullPolicy: Never
    args: [serve, "8080", kubernetes.default.svc.cluster.local, probe.$ns.svc.cluster.local]
    ports: [{containerPort: 8080}]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: intolerant, namespace: $ns}
spec:
  nodeSelector: {labkube.io/system-node: "true"}
  containers: [{name: c, image: labkube.local/node-probe:1, imagePullPolicy: Never, args: [serve, "8080"]}]
---
apiVersion: v1
kind: Service
metadata: {name: probe, namespace: $ns}
spec:
  selector: {app: probe}
  ports: [{port: 80, targetPort: 8080}]
EOF
}
t0=$(now_ms)
manifest | kubectl apply -f - >/dev/null
pod_running() { [[ $(kubectl get pod probe -n "$ns" -o 'jsonpath={.status.phase}') == Running ]]; }
if poll 60 pod_running; then
  pod_ms=$(($(now_ms) - t0))
  where=$(kubectl get pod probe -n "$ns" -o 'jsonpath={.spec.nodeName} {.status.podIP}')
  if [[ ${where%% *} == "$LABKUBE_NODE_NAME" ]]; then
    pass "pod_running (in $(secs "$pod_ms"), ${where#* })"
  else
    fail pod_running "Running on '${where%% *}', not $LABKUBE_NODE_NAME"
  fi
else
  fail pod_running "not Running after 60 s: $(kubectl get pod probe -n "$ns" -o 'jsonpath={.status.phase} {.status.containerStatuses[*].state}')"
fi

intolerant_unschedulable() { [[ $(kubectl get pod intolerant -n "$ns" -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}') == Unschedulable ]]; }
if poll 20 intolerant_unschedulable; then
  pass taint_keeps_others_off
else
  fail taint_keeps_others_off "pod without the toleration: $(kubectl get pod intolerant -n "$ns" -o 'jsonpath={.spec.nodeName} {.status.conditions}')"
fi

# --- Service from the host (kube-proxy) ---------------------------------------------------------
svc_ip=$(kubectl get service probe -n "$ns" -o 'jsonpath={.spec.clusterIP}')
reply=''
svc_answers() { reply=$(curl -sS --max-time 2 "http://$svc_ip/"); [[ $reply == "hello from probe" ]]; }
if poll 30 svc_answers; then
  ok=0
  for _ in $(seq 1 20); do svc_answers && ok=$((ok + 1)); done
  if ((ok == 20)); then pass "service_from_host ($svc_ip, 20/20)"; else fail service_from_host "$ok/20 requests to $svc_ip answered"; fi
else
  fail service_from_host "http://$svc_ip/ answered '$reply'"
fi

# --- cluster DNS ----------------------------------------------------------------------------------
api_ip=$(kubectl get service kubernetes -n default -o 'jsonpath={.spec.clusterIP}')
got=$("$LABKUBE_NODE_PROBE" resolve "$LABKUBE_CLUSTER_DNS" kubernetes.default.svc.cluster.local 2>&1)
if [[ $got == *"-> $api_ip"* ]]; then pass "dns_from_host (kubernetes.default.svc.cluster.local -> $api_ip)"; else fail dns_from_host "got '$got'"; fi
got=$("$LABKUBE_NODE_PROBE" resolve "$LABKUBE_CLUSTER_DNS" "probe.$ns.svc.cluster.local" 2>&1)
if [[ $got == *"-> $svc_ip"* ]]; then pass dns_service_name; else fail dns_service_name "probe.$ns.svc.cluster.local: '$got' (want $svc_ip)"; fi

# --- kubectl logs (API server -> kubelet) and DNS from inside the pod -----------------------------
logs=''
logs_ready() { logs=$(kubectl logs probe -n "$ns" 2>&1) && [[ $logs == *"listening on 8080"* ]]; }
if poll 20 logs_ready; then pass kubectl_logs; else fail kubectl_logs "$(tail -c 300 <<<"$logs")"; fi
if [[ $logs == *"resolve kubernetes.default.svc.cluster.local -> $api_ip"* ]]; then
  pass dns_from_pod
else
  fail dns_from_pod "pod log: $(tr '\n' ' ' <<<"$logs")"
fi

got=$(kubectl exec probe -n "$ns" -- /probe resolve "$LABKUBE_CLUSTER_DNS" "probe.$ns.svc.cluster.local" 2>&1)
if [[ $got == *"-> $svc_ip"* ]]; then pass kubectl_exec; else fail kubectl_exec "got '$got'"; fi

# Pods reach the API server through the kubernetes Service when cluster.sh advertises a host
# address (LABKUBE_HOST_IP); on a loopback-only control plane they cannot, and this is skipped.
if [[ -n ${LABKUBE_HOST_IP:-} ]]; then
  got=$(kubectl exec probe -n "$ns" -- /probe connect "$api_ip" 443 2>&1)
  if [[ $got == *": ok"* ]]; then pass pod_reaches_apiserver; else fail pod_reaches_apiserver "$got"; fi
else
  say "SKIP pod_reaches_apiserver: the control plane is loopback-only (no LABKUBE_HOST_IP)"
fi

# --- teardown -------------------------------------------------------------------------------------
if [[ ${LABKUBE_NODE_TEST_KEEP:-} == 1 ]]; then
  say "LABKUBE_NODE_TEST_KEEP=1: leaving the node and control plane up"
  finish
fi
t0=$(now_ms)
down_out=$("$nodesh" down 2>&1)
down_rc=$?
down_ms=$(($(now_ms) - t0))
printf '%s\n' "$down_out" | grep -E 'node down|LEFT|^\[node\]   ' >&2
if ((down_rc == 0)); then
  pass "node_down (in $(secs "$down_ms"))"
else
  fail node_down "$(printf '%s\n' "$down_out" | grep -E 'ERROR|LEFT|^\[node\]   ' | tr '\n' ' ')"
fi

# Independent checks of what down must leave: nothing of the node on the host.
left=()
for bin in kubelet kube-proxy coredns; do
  pgrep -f "/bin/$bin-v" >/dev/null && left+=("process $bin")
done
pgrep -f -- "--config $LABKUBE_NODE_DIR/containerd/config.toml" >/dev/null && left+=("process containerd")
pgrep -f "containerd-shim-runc-v2 .*-address $LABKUBE_NODE_CONTAINERD" >/dev/null && left+=("process containerd-shim")
grep -qF " $LABKUBE_NODE_DIR/" /proc/self/mountinfo && left+=("mounts under $LABKUBE_NODE_DIR")
grep -qE ' /run/netns/cni-| /var/lib/kubelet' /proc/self/mountinfo && left+=("netns or kubelet mounts")
ip link show lk-cni0 >/dev/null 2>&1 && left+=("bridge lk-cni0")
[[ -n $(ip -o link show type veth 2>/dev/null) ]] && left+=("veth interfaces")
iptables-save 2>/dev/null | grep -qE '^:(KUBE-|CNI-|LABKUBE-)' && left+=("iptables chains")
nft list tables 2>/dev/null | grep -q kube-proxy && left+=("nft table kube-proxy")
compgen -G '/sys/fs/cgroup/*/kubepods' >/dev/null && left+=("kubepods cgroups")
for p in /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/cni/results /run/containerd/s; do
  [[ -e $p ]] && left+=("path $p")
done
[[ $(sysctl -n net.ipv4.ip_forward) == "${ip_forward_before:-0}" ]] || left+=("net.ipv4.ip_forward=$(sysctl -n net.ipv4.ip_forward)")
[[ -z $(kubectl get node "$LABKUBE_NODE_NAME" -o name 2>/dev/null) ]] || left+=("Node object")
if ((${#left[@]} == 0)); then pass nothing_left_behind; else fail nothing_left_behind "${left[*]}"; fi

kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1
"$cluster" down >/dev/null 2>&1
say "timings: node up $(secs "$node_up_ms"), pod Running $(secs "${pod_ms:-0}"), node down $(secs "$down_ms")"
finish
