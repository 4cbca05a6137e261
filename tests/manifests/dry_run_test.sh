#!/usr/bin/env bash
# Every manifest in k8s/ is accepted by the real kube-apiserver (`kubectl apply --dry-run=server`).
# The CRD and namespace are applied for real first, as an install would, so objects that depend
# on them (Machines, namespaced Deployments) can be validated.
set -euo pipefail
: "${KUBECTL:?KUBECTL (the kubectl binary) must be set; ./dev.sh test sets it}"
: "${LABKUBE_KUBECONFIG:?LABKUBE_KUBECONFIG must point at the local cluster}"
k() { "$KUBECTL" --kubeconfig "$LABKUBE_KUBECONFIG" "$@"; }
k8s=$(dirname "$(readlink -f "$0")")/../../k8s
[[ -d $k8s/base ]] || k8s=$TEST_SRCDIR/labkube/k8s
k apply -f "$k8s/base/" -f "$k8s/crds/" >/dev/null
k wait --for=condition=Established crd/machines.labkube.io --timeout=30s >/dev/null
failed=0
# check LABEL COUNT_PATTERN COMMAND...: runs COMMAND; "ok LABEL (N objects)" counting the lines
# of its output that match COUNT_PATTERN, or "FAIL LABEL" with the output indented.
check() {
  local label=$1 pattern=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    echo "ok   $label ($(grep -c "$pattern" <<<"$out") objects)"
  else
    echo "FAIL $label"
    echo "$out" | sed 's/^/     /'
    failed=1
  fi
}
for dir in "$k8s"/*/; do
  compgen -G "$dir*.yaml" >/dev/null || continue  # k8s/overlays: kustomizations only
  check "k8s/$(basename "$dir")" 'server dry run' k apply --dry-run=server -f "$dir"
done
# The one-command install and the local lab's overlay, as the API server would take them; the
# cert-manager overlay only renders (a dry run needs cert-manager's CRDs).
for kust in "" overlays/local-lab; do
  check "kubectl apply -k k8s/$kust" 'server dry run' k apply --dry-run=server -k "$k8s/$kust"
done
check "kubectl kustomize k8s/overlays/cert-manager" '^kind:' k kustomize "$k8s/overlays/cert-manager"
exit $failed
