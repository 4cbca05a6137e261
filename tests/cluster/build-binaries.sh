#!/usr/bin/env bash
# Builds the upstream binaries the local lab runs (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok, grpcurl) from the Go module proxy, once per pinned version,
# into $LABKUBE_CACHE/bin. Idempotent: a binary already present for its version is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${LABKUBE_CACHE:-$HOME/.cache/labkube}
bin=$cache/bin
mkdir -p "$bin" "$cache/src"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { printf '[build-binaries] %s\n' "$*" >&2; }

have() { [[ -x "$bin/$1-$2" ]]; }

k8s_ldflags() {
  local v=${KUBERNETES_VERSION#v} major minor
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  local p=k8s.io/component-base/version
  echo "-s -w -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"
}

build_kubernetes() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=()
  for c in "${cmds[@]}"; do have "$c" "$KUBERNETES_VERSION" || missing+=("$c"); done
  ((${#missing[@]})) || return 0
  local dir=$cache/src/kubernetes-$KUBERNETES_VERSION
  mkdir -p "$dir"
  {
    echo "module labkube.local/k8sbuild"
    echo "go 1.26.0"
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "replace ("
    local staging
    staging=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$staging" | while read -r m; do
      echo "  $m => $m $KUBERNETES_STAGING_VERSION"
    done
    echo ")"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true)
  for c in "${missing[@]}"; do
    log "building $c $KUBERNETES_VERSION (several minutes on 2 cores)"
    (cd "$dir" && go build -trimpath -ldflags "$(k8s_ldflags)" -o "$bin/$c-$KUBERNETES_VERSION.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$bin/$c-$KUBERNETES_VERSION.tmp" "$bin/$c-$KUBERNETES_VERSION"
  done
}

# build_module NAME VERSION PACKAGE: `go install PACKAGE@VERSION` (the module's own go.mod, so
# its pinned dependencies), renamed to NAME-VERSION.
build_module() {
  local name=$1 version=$2 pkg=$3
  have "$name" "$version" && return 0
  local gobin
  gobin=$(mktemp -d)
  log "building $name $version"
  GOBIN=$gobin go install -trimpath -ldflags "-s -w" "$pkg@$version"
  mv "$gobin"/* "$bin/$name-$version"
  rmdir "$gobin"
}

main() {
  build_module etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3
  build_module grpcurl "$GRPCURL_VERSION" github.com/fullstorydev/grpcurl/cmd/grpcurl
  build_module kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  build_kubernetes
  log "all binaries present in $bin"
}
main "$@"
