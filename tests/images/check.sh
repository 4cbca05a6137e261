#!/usr/bin/env bash
# Checks the OCI archives tools/images.sh built (docs/images.md), one line per check:
# "PASS <check> <service>" or "FAIL <check> <service>: why"; exit status 1 if any failed.
#
#   tests/images/check.sh [--dir DIR] [SERVICE...]     (default: $LABKUBE_CACHE/images, all four)
#
# Per image: archive (one manifest, named <repo>/<service>:<version> for containerd, readable by
# skopeo), user (65532:65532, in /etc/passwd), config (Entrypoint, WorkingDir /, no Cmd), labels,
# no-shell (no shell or busybox anywhere in the layers), contents (only the binary, its
# libraries, the loader, certificates, passwd, group; regular files only), libraries (the image's
# own loader resolves every library inside the image, and the image holds no other library),
# runs (--helpfull as 65532 in a chroot of the unpacked image with the root read-only, or through
# the image's loader when not root) and reproducible (tools/images.sh --no-build into a second
# folder gives the same manifest digest).
# VERSION and LABKUBE_IMAGE_REPO as for tools/images.sh. LABKUBE_CHECK_CTR=1 also imports each
# archive into a running containerd (namespace labkube-check, removed after; never k8s.io).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
VERSION=${VERSION:-0.1.0-dev}
repo_prefix=${LABKUBE_IMAGE_REPO:-docker.io/labkube}
dir=${LABKUBE_IMAGES_DIR:-$LABKUBE_CACHE/images}
nonroot=65532
failed=0

log() { printf '[check] %s\n' "$*" >&2; }
pass() { printf 'PASS %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failed=1; }

# Reads a field of the image's inspect output (Go template) or config (--config).
inspect() { skopeo inspect --format "$1" "oci:$layout:$ref" 2>&1; }
config() { skopeo inspect --config --format "$1" "oci:$layout:$ref" 2>&1; }

check_archive() {
  local names digest
  names=$(grep -o '"org.opencontainers.image.ref.name":"[^"]*"' "$layout/index.json" | cut -d'"' -f4 || true)
  if [[ $(grep -o '"mediaType":"application/vnd.oci.image.manifest.v1+json"' "$layout/index.json" | wc -l) != 1 ]]; then
    fail "archive $service: index.json does not hold exactly one manifest"
  elif [[ $names != "$ref" ]]; then
    fail "archive $service: org.opencontainers.image.ref.name is '$names', want '$ref'"
  elif ! digest=$(skopeo inspect --format '{{.Digest}}' "oci-archive:$archive" 2>&1); then
    fail "archive $service: skopeo inspect oci-archive: $digest"
  else
    pass "archive $service ($ref, $digest)"
  fi
}

check_user() {
  local user
  user=$(config '{{.Config.User}}')
  if [[ $user != "$nonroot:$nonroot" ]]; then
    fail "user $service: config User is '$user', want $nonroot:$nonroot"
  elif ! grep -q "^[a-z]*:x:$nonroot:$nonroot:" "$rootfs/etc/passwd"; then
    fail "user $service: /etc/passwd has no user $nonroot"
  elif ! grep -q "^[a-z]*:x:$nonroot:" "$rootfs/etc/group"; then
    fail "user $service: /etc/group has no group $nonroot"
  else
    pass "user $service ($user, non-root)"
  fi
}

check_config() {
  local got want
  got=$(config '{{range .Config.Entrypoint}}{{.}} {{end}}|{{.Config.WorkingDir}}|{{len .Config.Cmd}}')
  want="$bin |/|0"
  if [[ $got == "$want" ]]; then pass "config $service (Entrypoint $bin, WorkingDir /, no Cmd)"; else
    fail "config $service: Entrypoint|WorkingDir|len(Cmd) is '$got', want '$want'"; fi
}

check_labels() {
  local key value missing=() revision created want_created
  for key in version revision source title created; do
    value=$(inspect "{{index .Labels \"org.opencontainers.image.$key\"}}")
    [[ -n $value && $value != "<no value>" ]] || missing+=("$key")
  done
  if ((${#missing[@]})); then
    fail "labels $service: missing org.opencontainers.image.{${missing[*]}}"
    return
  fi
  revision=$(inspect '{{index .Labels "org.opencontainers.image.revision"}}')
  created=$(inspect '{{index .Labels "org.opencontainers.image.created"}}')
  value=$(inspect '{{index .Labels "org.opencontainers.image.version"}}|{{index .Labels "org.opencontainers.image.title"}}')
  if [[ $value != "$VERSION|labkube-$service" ]]; then
    fail "labels $service: version|title is '$value', want '$VERSION|labkube-$service'"
  elif ! git -C "$root" cat-file -e "$revision^{commit}" 2>/dev/null; then
    fail "labels $service: revision $revision is not a commit of this repository"
  elif [[ -z ${SOURCE_DATE_EPOCH:-} ]] &&
    want_created=$(date -u -d "@$(git -C "$root" log -1 --format=%ct "$revision")" +%Y-%m-%dT%H:%M:%SZ) &&
    [[ $created != "$want_created" ]]; then
    fail "labels $service: created $created is not the time of commit $revision ($want_created)"
  elif [[ $(config '{{.Created}}') != "$(date -u -d "$created" '+%Y-%m-%d %H:%M:%S +0000 UTC')" ]]; then
    fail "labels $service: config created $(config '{{.Created}}') differs from the created label $created"
  else
    pass "labels $service (version $VERSION, revision ${revision:0:12}, created $created)"
  fi
}

# Every entry of every layer (tar -t), for the no-shell and contents checks.
layer_entries() {
  local layer
  for layer in $(inspect '{{range .Layers}}{{.}} {{end}}'); do
    tar -tzvf "$layout/blobs/sha256/${layer#sha256:}" 2>/dev/null || echo "?--------- unreadable layer $layer"
  done
}

check_no_shell() {
  local shells
  shells=$(layer_entries | awk '{ print $NF }' |
    grep -E '(^|/)(sh|bash|rbash|dash|ash|zsh|ksh|mksh|csh|tcsh|fish|busybox|toybox)$' || true)
  if [[ -n $shells ]]; then fail "no-shell $service: $(tr '\n' ' ' <<<"$shells")"; else
    pass "no-shell $service"; fi
}

check_contents() {
  local bad
  # Type letter (d directory, - file) and path of each entry; anything else is unexpected.
  bad=$(layer_entries | awk '{ print substr($1, 1, 1), $NF }' | awk -v bin="${bin#/}" '
    $1 == "d" { next }
    $1 == "-" && ($2 == bin || $2 == "etc/passwd" || $2 == "etc/group" ||
                  $2 == "etc/ssl/certs/ca-certificates.crt" || $2 ~ /^lib64\/ld-linux[^\/]*\.so\.[0-9]+$/ ||
                  $2 ~ /^usr\/lib\/[a-z0-9_]+-linux-gnu\/[^\/]+\.so(\.[0-9]+)*$/) { next }
    { print }')
  if [[ -n $bad ]]; then fail "contents $service: unexpected entries: $(head -5 <<<"$bad" | tr '\n' ';')"; else
    pass "contents $service ($(find "$rootfs" -type f | wc -l) files, $(du -sb "$rootfs" | cut -f1) bytes)"; fi
}

# The image's loader lists what it would load for the binary with only the image's folders to
# search (--inhibit-cache: no host ld.so.cache); every path must be inside the rootfs, and every
# library in the image must be one of them.
check_libraries() {
  local loader listed outside have extra
  loader=$(find "$rootfs/lib64" -maxdepth 1 -name 'ld-linux*.so.*' | head -1)
  if [[ -z $loader ]]; then fail "libraries $service: no dynamic loader in /lib64"; return; fi
  if ! listed=$("$loader" --list --inhibit-cache --library-path "$libdirs" "$rootfs$bin" 2>&1); then
    fail "libraries $service: $loader --list: $(tail -3 <<<"$listed" | tr '\n' ' ')"
    return
  fi
  outside=$(grep -E '=> ' <<<"$listed" | awk '{ print $3 }' | grep -v "^$rootfs/" || true)
  have=$(find "$rootfs/usr/lib" -name '*.so*' -printf '%f\n' | sort)
  extra=$(comm -23 <(echo "$have") <(grep -E '=> /' <<<"$listed" | awk '{ print $1 }' | sort))
  if grep -q 'not found' <<<"$listed"; then
    fail "libraries $service: $(grep 'not found' <<<"$listed" | tr '\n' ' ')"
  elif [[ -n $outside ]]; then
    fail "libraries $service: resolved outside the image: $(tr '\n' ' ' <<<"$outside")"
  elif [[ -n $extra ]]; then
    fail "libraries $service: in the image but not loaded: $(tr '\n' ' ' <<<"$extra")"
  else
    pass "libraries $service ($(grep -c '=> /' <<<"$listed") libraries, all from the image)"
  fi
}

# Runs --helpfull in a chroot of the rootfs mounted read-only (private mount namespace) as 65532.
run_chroot() {
  # shellcheck disable=SC2016 # the inner shell expands its own arguments
  unshare --mount --propagation private sh -ec '
    r=$1 user=$2; shift 2
    mount --bind "$r" "$r"; mount -o remount,bind,ro "$r"
    exec env -i "$(command -v timeout)" 10 "$(command -v chroot)" --userspec="$user" "$r" "$@"' sh "$rootfs" "$nonroot:$nonroot" "$bin" --helpfull
}

check_runs() {
  local out rc=0 how
  if ((EUID == 0)) && command -v unshare >/dev/null && unshare --mount true 2>/dev/null; then
    how="chroot, read-only root, uid $nonroot"
    out=$(run_chroot 2>&1) || rc=$?
  else
    how="image loader, --library-path $libdirs"
    out=$(env -i timeout 10 "$(find "$rootfs/lib64" -maxdepth 1 -name 'ld-linux*.so.*' | head -1)" \
      --inhibit-cache --library-path "$libdirs" "$rootfs$bin" --helpfull 2>&1) || rc=$?
  fi
  # absl's --helpfull prints every flag and exits 1; a loader failure is 127, a timeout 124.
  if ((rc > 1)); then
    fail "runs $service ($how): exit $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"
  elif ! grep -q "Flags from services/$service/" <<<"$out"; then
    fail "runs $service ($how): --helpfull printed no flags of services/$service: $(tail -3 <<<"$out" | tr '\n' ' ')"
  else
    pass "runs $service ($how, --helpfull lists $(grep -c '^ *--' <<<"$out") flags)"
  fi
}

check_reproducible() {
  local again_layout again what
  again=$rebuild/labkube-$service-$VERSION.oci.tar
  if [[ ! -f $again ]]; then fail "reproducible $service: the rebuild made no archive (see above)"; return; fi
  again_layout=$tmp/$service/again
  mkdir -p "$again_layout"
  tar -xf "$again" -C "$again_layout"
  local d1 d2
  d1=$(skopeo inspect --format '{{.Digest}}' "oci:$layout:$ref")
  d2=$(skopeo inspect --format '{{.Digest}}' "oci:$again_layout:$ref")
  if [[ $d1 == "$d2" ]]; then
    what="manifest $d1 twice"
    cmp -s "$archive" "$again" && what+=", archives byte-identical"
    pass "reproducible $service ($what)"
    return
  fi
  what="layer differs"
  [[ $(inspect '{{range .Layers}}{{.}}{{end}}') == $(skopeo inspect --format '{{range .Layers}}{{.}}{{end}}' "oci:$again_layout:$ref") ]] &&
    what="same layer, config differs"
  local rev
  rev=$(inspect '{{index .Labels "org.opencontainers.image.revision"}}')
  [[ $rev == "$(git -C "$root" rev-parse HEAD)" ]] || what+="; the archive was built at $rev, HEAD is now $(git -C "$root" rev-parse HEAD)"
  fail "reproducible $service: manifest $d1, rebuilt $d2 ($what)"
}

# Optional: containerd's own import of the OCI archive, in a namespace of this check only.
check_ctr() {
  local ns=labkube-check out
  if ! out=$(ctr -n "$ns" images import "$archive" 2>&1); then
    fail "ctr-import $service: $(tail -2 <<<"$out" | tr '\n' ' ')"
  elif ! ctr -n "$ns" images ls -q | grep -qx "$ref"; then
    fail "ctr-import $service: imported, but no image named $ref: $(ctr -n "$ns" images ls -q | tr '\n' ' ')"
  else
    pass "ctr-import $service (ctr images import named it $ref)"
  fi
  ctr -n "$ns" images rm "$ref" >/dev/null 2>&1 || true
}

main() {
  local services=() umoci_opts=()
  while (($#)); do
    case $1 in
      --dir) dir=$2; shift ;;
      -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
      *) services+=("$1") ;;
    esac
    shift
  done
  ((${#services[@]})) || services=(scheduler injector authenticator gateway)
  local tool
  for tool in umoci skopeo tar gzip git; do
    command -v "$tool" >/dev/null || { fail "tools: $tool is missing (./dev.sh deps)"; exit 1; }
  done
  ((EUID == 0)) || umoci_opts=(--rootless)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  rebuild=$tmp/rebuild
  log "rebuilding into a second folder for the reproducibility check (tools/images.sh --no-build)"
  if ! (cd "$root" && LABKUBE_IMAGES_DIR=$rebuild tools/images.sh --no-build "${services[@]}") >"$tmp/rebuild.log" 2>&1; then
    tail -5 "$tmp/rebuild.log" >&2
  fi
  for service in "${services[@]}"; do
    ref=$repo_prefix/$service:$VERSION
    archive=$dir/labkube-$service-$VERSION.oci.tar
    bin=/usr/local/bin/labkube-$service
    layout=$tmp/$service/layout rootfs=$tmp/$service/bundle/rootfs
    if [[ ! -f $archive ]]; then fail "archive $service: $archive missing (./dev.sh images)"; continue; fi
    mkdir -p "$layout"
    tar -xf "$archive" -C "$layout"
    if ! out=$(umoci unpack "${umoci_opts[@]}" --image "$layout:$ref" "$tmp/$service/bundle" 2>&1); then
      fail "archive $service: umoci unpack $ref: $out"
      continue
    fi
    libdirs=$(find "$rootfs/usr/lib" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
    check_archive
    check_user
    check_config
    check_labels
    check_no_shell
    check_contents
    check_libraries
    check_runs
    check_reproducible
    if [[ ${LABKUBE_CHECK_CTR:-0} == 1 ]]; then check_ctr; fi
  done
  return "$failed"
}

main "$@"
