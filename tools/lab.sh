#!/usr/bin/env bash
# The local lab with labkube installed in the cluster exactly as an admin installs it: the
# control plane and kwok GPU nodes (tests/cluster/cluster.sh), one real node
# (tests/cluster/node.sh), labkube's images (tools/images.sh) imported into that node's
# containerd, and `kubectl apply -k` of a lab overlay over k8s/overlays/local-lab.
#
#   lab.sh up     everything above (idempotent), then the first admin (the documented in-cluster
#                 command), a demo member, the local lab's Machines and volumes
#   lab.sh down   the real node and everything on it (the control plane stays: cluster.sh down)
#   lab.sh env    KEY=value lines: LABKUBE_GATEWAY (node address:NodePort), LABKUBE_WEB (the web
#                 page's URL, https://node address:NodePort/), LABKUBE_CA (labkube's
#                 CA, from ConfigMap labkube-ca), LABKUBE_CREDENTIALS, LABKUBE_KUSTOMIZATION, LABCTL
#
# The lab overlay ($LABKUBE_STATE/install/kustomization.yaml) only fills in what differs per
# machine: the API server address members reach (public_server) and the gateway's addresses
# (gateway_names). Environment: LABKUBE_STATE, LABKUBE_CACHE (as cluster.sh), LABKUBE_LOCAL_VOLUMES.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
export LABKUBE_STATE=${LABKUBE_STATE:-$LABKUBE_CACHE/state}
install_dir=$LABKUBE_STATE/install
images_dir=${LABKUBE_IMAGES_DIR:-$LABKUBE_CACHE/images}
log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

cluster_env() {
  eval "$("$root/tests/cluster/cluster.sh" env)"
  export LABKUBE_KUBECONFIG KUBECTL GRPCURL LABKUBE_APISERVER LABKUBE_HOST_IP
}
k() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }

# The per-machine overlay over k8s/overlays/local-lab.
write_overlay() {
  local base
  mkdir -p "$install_dir"
  base=$(realpath --relative-to="$install_dir" "$root/k8s/overlays/local-lab")
  cat >"$install_dir/kustomization.yaml" <<EOF
# Written by tools/lab.sh: this machine's addresses over k8s/overlays/local-lab.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [$base]
configMapGenerator:
  - name: labkube-settings
    namespace: labkube-system
    behavior: merge
    literals:
      - public_server=$LABKUBE_APISERVER
      - gateway_names=$LABKUBE_HOST_IP,localhost,127.0.0.1
# The images just built, tagged by their digest (import_images): a rebuilt image rolls its
# Deployment, an unchanged one does not.
images:
EOF
  local svc ref digest rest
  while IFS=$'\t' read -r svc ref digest rest; do
    printf '  - {name: labkube/%s, newTag: %s}\n' "$svc" "$(content_tag "$ref" "$digest")" \
      >>"$install_dir/kustomization.yaml"
  done <"$images_dir/images.tsv"
}

# <version>-<12 digest hex digits>: a tag that changes with the image's content.
content_tag() { local ref=$1 digest=$2; echo "${ref##*:}-${digest:7:12}"; }

import_images() {
  local archives=() svc
  for svc in scheduler injector authenticator gateway; do
    archives+=("$images_dir/labkube-$svc-${VERSION:-0.1.0-dev}.oci.tar")
  done
  for a in "${archives[@]}"; do [[ -f $a ]] || die "no image archive $a (tools/images.sh)"; done
  "$root/tests/cluster/node.sh" import "${archives[@]}" >&2
  # Containerd finds local images by name only (not by digest): tag each by its content.
  local sock svc ref digest rest
  sock=$("$root/tests/cluster/node.sh" env | sed -n 's/^LABKUBE_NODE_CONTAINERD=//p')
  while IFS=$'\t' read -r svc ref digest rest; do
    ctr --address "$sock" --namespace k8s.io images tag --force "$ref" \
      "${ref%:*}:$(content_tag "$ref" "$digest")" >/dev/null
  done <"$images_dir/images.tsv"
}

wait_available() {
  local d
  for d in labkube-scheduler labkube-injector labkube-authenticator labkube-gateway; do
    k -n labkube-system rollout status "deployment/$d" --timeout=180s >&2 ||
      { k -n labkube-system get pods -o wide >&2; die "deployment $d did not become available"; }
  done
}

gateway_address() {
  local port
  port=$(k -n labkube-system get service labkube-gateway-external -o jsonpath='{.spec.ports[0].nodePort}')
  [[ -n $port ]] || die "the gateway's NodePort Service has no port yet"
  echo "$LABKUBE_HOST_IP:$port"
}

# The web page's URL (the NodePort named "web" of the same Service).
web_url() {
  local port
  port=$(k -n labkube-system get service labkube-gateway-external -o jsonpath='{.spec.ports[?(@.name=="web")].nodePort}')
  [[ -n $port ]] || die "the gateway's NodePort Service has no web port yet"
  echo "https://$LABKUBE_HOST_IP:$port/"
}

# gateway_call TOKEN METHOD JSON: a Gateway call through its NodePort, verified with labkube's CA.
gateway_call() {
  local token=$1 method=$2 data=$3 auth=()
  [[ -z $token ]] || auth=(-H "authorization: Bearer $token")
  "$GRPCURL" -cacert "$install_dir/ca.crt" "${auth[@]}" -d "$data" "$gateway" \
    "labkube.gateway.v1alpha1.Gateway/$method"
}

# The gateway answers through its NodePort (kube-proxy programs a new Service within seconds).
wait_gateway() {
  local deadline=$((SECONDS + 90)) out
  until out=$("$GRPCURL" -cacert "$install_dir/ca.crt" -connect-timeout 2 "$gateway" \
    grpc.health.v1.Health/Check 2>&1); do
    ((SECONDS < deadline)) || die "the gateway does not answer at $gateway: $out"
    sleep 0.5
  done
}

# The first admin with the documented in-cluster command (docs/install.md), then a demo member
# through the gateway, as an admin would make one. Idempotent: the passwords of an earlier run
# are kept (bootstrap-admin sets the admin's again; an existing member stays).
demo_accounts() {
  local creds=$LABKUBE_STATE/credentials.yaml admin_pw member_pw token out
  admin_pw=$(sed -n 's/^admin: {username: admin, password: \(.*\)}$/\1/p' "$creds" 2>/dev/null || true)
  member_pw=$(sed -n 's/^member: {username: alice, password: \(.*\)}$/\1/p' "$creds" 2>/dev/null || true)
  [[ -n $admin_pw ]] || admin_pw=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-16)
  [[ -n $member_pw ]] || member_pw=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-16)
  printf '%s\n' "$admin_pw" | k -n labkube-system exec -i deploy/labkube-authenticator -- \
    /usr/local/bin/labkube-authenticator bootstrap-admin --name=admin --password-stdin >&2 ||
    die "bootstrap-admin failed"
  token=$(gateway_call "" Login "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" |
    sed -n 's/.*"access_\{0,1\}[tT]oken": "\([^"]*\)".*/\1/p')
  [[ -n $token ]] || die "the admin could not log in through the gateway"
  if ! out=$(gateway_call "$token" CreateMember "{\"name\":\"alice\",\"password\":\"$member_pw\"}" 2>&1); then
    grep -q AlreadyExists <<<"$out" || die "creating the demo member failed: $out"
  fi
  (umask 077 && printf 'admin: {username: admin, password: %s}\nmember: {username: alice, password: %s}\n' \
    "$admin_pw" "$member_pw" >"$creds")
  log "demo accounts: admin/$admin_pw, alice/$member_pw (also in $creds)"
}

cmd_up() {
  local t0=$SECONDS t
  "$root/tests/cluster/cluster.sh" up --quiet >&2
  cluster_env
  [[ -n $LABKUBE_HOST_IP ]] || die "the host has no default route: a real node needs an address"
  t=$SECONDS; "$root/tools/images.sh" >&2; log "images: $((SECONDS - t)) s"
  t=$SECONDS; "$root/tests/cluster/node.sh" up >&2; import_images; log "node: $((SECONDS - t)) s"
  t=$SECONDS
  write_overlay
  k apply -k "$install_dir" >&2
  wait_available
  k -n labkube-system get configmap labkube-ca -o jsonpath='{.data.ca\.crt}' >"$install_dir/ca.crt"
  gateway=$(gateway_address)  # read once; gateway_call and wait_gateway use it
  wait_gateway
  log "install: $((SECONDS - t)) s"
  demo_accounts
  k apply -f "$root/k8s/examples/machine-local-lab.yaml" >/dev/null
  "$root/tools/services.sh" volumes "${LABKUBE_LOCAL_VOLUMES:-6}"
  log "lab up in $((SECONDS - t0)) s; gateway $gateway"
  log "web: $(web_url)"
}

cmd_down() {
  "$root/tests/cluster/node.sh" down >&2 || true
}

cmd_env() {
  cluster_env
  echo "LABKUBE_GATEWAY=$(gateway_address)"
  echo "LABKUBE_WEB=$(web_url)"
  echo "LABKUBE_CA=$install_dir/ca.crt"
  echo "LABKUBE_CREDENTIALS=$LABKUBE_STATE/credentials.yaml"
  echo "LABKUBE_KUSTOMIZATION=$install_dir"
  echo "LABCTL=$(cd "$root" && bazel info bazel-bin 2>/dev/null)/clients/cli/labctl"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
