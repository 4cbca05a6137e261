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
for dir in "$k8s"/*/; do
  name=$(basename "$dir")
  compgen -G "$dir*.yaml" >/dev/null || continue  # k8s/overlays: kustomizations only
  if out=$(k apply --dry-run=server -f "$dir" 2>&1); then
    echo "ok   k8s/$name ($(grep -c 'server dry run' <<<"$out") objects)"
  else
    echo "FAIL k8s/$name"
    echo "$out" | sed 's/^/     /'
    failed=1
  fi
done
# The one-command install and the local lab's overlay, as the API server would take them; the
# cert-manager overlay only renders (a dry run needs cert-manager's CRDs).
for kust in "" overlays/local-lab; do
  if out=$(k apply --dry-run=server -k "$k8s/$kust" 2>&1); then
    echo "ok   kubectl apply -k k8s/$kust ($(grep -c 'server dry run' <<<"$out") objects)"
  else
    echo "FAIL kubectl apply -k k8s/$kust"
    echo "$out" | sed 's/^/     /'
    failed=1
  fi
done
if out=$(k kustomize "$k8s/overlays/cert-manager" 2>&1); then
  echo "ok   kubectl kustomize k8s/overlays/cert-manager ($(grep -c '^kind:' <<<"$out") objects)"
else
  echo "FAIL kubectl kustomize k8s/overlays/cert-manager"
  echo "$out" | sed 's/^/     /'
  failed=1
fi
exit $failed
