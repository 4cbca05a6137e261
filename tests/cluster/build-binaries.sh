#!/usr/bin/env bash
# Builds the upstream binaries the local lab runs (UPSTREAM_BINARIES in versions.env: the control
# plane, etcd, kwok, kubectl, grpcurl) from the Go module proxy into $LABKUBE_CACHE/bin/NAME-VERSION.
# Every binary is built the same way: a small wrapper module that requires MODULE at VERSION (so the
# module's own go.mod pins the dependencies, and its replace directives cannot stop `go install`)
# and builds PACKAGE. Idempotent: a binary already present for its version is not rebuilt.
#
#   build-binaries.sh [NAME ...]   (default: every binary in versions.env)
#
# Go's own module and build caches make a second build of the same version a link only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${LABKUBE_CACHE:-$HOME/.cache/labkube}
bin=$cache/bin
mkdir -p "$bin" "$cache/src"
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

log() { printf '[build-binaries] %s\n' "$*" >&2; }
die() { printf '[build-binaries] ERROR: %s\n' "$*" >&2; exit 1; }

# ldflags MODULE VERSION: stripped binaries; Kubernetes commands also report their release (or
# kubectl warns about version skew).
ldflags() {
  local flags="-s -w"
  if [[ $1 == k8s.io/kubernetes ]]; then
    local v=${2#v} major minor p=k8s.io/component-base/version c=k8s.io/client-go/pkg/version
    major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
    flags+=" -X $p.gitVersion=$2 -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    flags+=" -X $c.gitVersion=$2 -X $c.gitMajor=$major -X $c.gitMinor=$minor"
  fi
  printf '%s' "$flags"
}

# packages_of MODULE VERSION: every PACKAGE versions.env builds from MODULE at VERSION.
packages_of() {
  local line f
  for line in "${UPSTREAM_BINARIES[@]}"; do
    read -ra f <<<"$line"
    [[ ${f[1]} == "$1" && ${f[2]} == "$2" ]] && echo "${f[3]}"
  done
}

# wrapper_module MODULE VERSION [STAGING_VERSION]: prints the folder of a module that requires
# MODULE@VERSION and imports every package built from it. With STAGING_VERSION, each local-path
# replace in MODULE's go.mod (k8s.io/kubernetes' staging modules) points at that published version.
wrapper_module() {
  local module=$1 version=$2 staging=${3:-}
  local dir=$cache/src/${module//\//_}@$version
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    go mod init labkube.local/upstream >/dev/null 2>&1
    go mod edit -require="$module@$version"
    if [[ -n $staging ]]; then
      local gomod m
      gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
      [[ -f $gomod ]] || die "go mod download $module@$version gave no go.mod"
      for m in $(sed -nE 's#^\s*(replace\s+)?([^ ]+) => \./staging/.*#\2#p' "$gomod"); do
        go mod edit -replace="$m=$m@$staging"
      done
    fi
    {
      echo "//go:build tools"
      echo
      echo "package tools"
      echo
      echo "import ("
      packages_of "$module" "$version" | sed 's/.*/\t_ "&"/'
      echo ")"
    } >tools.go
    go mod tidy || die "go mod tidy failed for $module@$version (see above)"
  ) >&2
  printf '%s' "$dir"
}

# build NAME MODULE VERSION PACKAGE [STAGING_VERSION]: PACKAGE of MODULE@VERSION into bin/NAME-VERSION.
declare -A wrappers=()
build() {
  local name=$1 module=$2 version=$3 pkg=$4 staging=${5:-}
  [[ -x $bin/$name-$version ]] && return 0
  local key=$module@$version started=$SECONDS
  [[ -n ${wrappers[$key]:-} ]] || wrappers[$key]=$(wrapper_module "$module" "$version" "$staging")
  log "building $name $version ($pkg)"
  (cd "${wrappers[$key]}" &&
    go build -trimpath -ldflags "$(ldflags "$module" "$version")" -o "$bin/$name-$version.tmp" "$pkg") ||
    die "building $name $version failed (see above)"
  mv "$bin/$name-$version.tmp" "$bin/$name-$version"
  log "built $name $version in $((SECONDS - started)) s"
}

main() {
  local line f wanted=" $* "
  for line in "${UPSTREAM_BINARIES[@]}"; do
    read -ra f <<<"$line"
    ((${#f[@]} >= 4)) || die "versions.env: malformed UPSTREAM_BINARIES line: $line"
    [[ $# -eq 0 || $wanted == *" ${f[0]} "* ]] || continue
    build "${f[@]}"
  done
  log "all binaries present in $bin"
}
main "$@"
