#!/usr/bin/env bash
# Builds one OCI image per labkube service (scheduler, injector, authenticator, gateway) from the
# Bazel -c opt outputs, offline, with umoci (it makes every layer, config and manifest). See
# docs/images.md.
#
#   tools/images.sh [--no-build] [--out DIR] [SERVICE...]   (default: all four services)
#
# Each image holds only /usr/local/bin/labkube-<service> (strip --strip-unneeded copy), the shared
# libraries ldd says it loads (real files named by soname) with the dynamic loader at its
# PT_INTERP path, /etc/ssl/certs/ca-certificates.crt and /etc/passwd + /etc/group with the nonroot
# user 65532. Config: User 65532:65532, Entrypoint the binary, WorkingDir /, OCI labels.
# Output: DIR/labkube-<service>-<version>.oci.tar (OCI image layout, one manifest named
# <repo>/<service>:<version> by org.opencontainers.image.ref.name) and DIR/images.tsv.
# Reproducible: every time stamp is SOURCE_DATE_EPOCH (default: the HEAD commit's time), every
# file root:root, so the same commit and the same binaries give the same manifest digest.
#
# Environment:
#   VERSION                 image version and tag (default 0.1.0-dev)
#   LABKUBE_IMAGE_REPO      repository prefix (default docker.io/labkube: what the kubelet asks
#                           containerd for when a Pod says labkube/<service>:<version>)
#   LABKUBE_IMAGES_DIR      output folder (default $LABKUBE_CACHE/images); --out overrides
#   LABKUBE_BIN_DIR         where the -c opt binaries are (default `bazel info -c opt bazel-bin`)
#   LABKUBE_IMAGE_SOURCE    org.opencontainers.image.source (default: git remote origin's URL)
#   LABKUBE_IMAGE_STRIP     1 (default) strips the binary copy, 0 keeps its symbol table
#   SOURCE_DATE_EPOCH       every time stamp (default: git log -1 --format=%ct HEAD)
# --no-build uses the binaries already in LABKUBE_BIN_DIR instead of running bazel build -c opt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export LABKUBE_CACHE=${LABKUBE_CACHE:-$HOME/.cache/labkube}
VERSION=${VERSION:-0.1.0-dev}
repo_prefix=${LABKUBE_IMAGE_REPO:-docker.io/labkube}
out_dir=${LABKUBE_IMAGES_DIR:-$LABKUBE_CACHE/images}
bin_dir=${LABKUBE_BIN_DIR:-}  # default: bazel info -c opt bazel-bin (resolved when needed)
strip_binary=${LABKUBE_IMAGE_STRIP:-1}
nonroot=65532
rootless=()
((EUID == 0)) || rootless=(--rootless)

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# The Bazel cc_binary of each service (services/*/BUILD.bazel).
target_of() {
  case $1 in
    scheduler) echo //services/scheduler:scheduler ;;
    injector) echo //services/injector:injector ;;
    authenticator) echo //services/authenticator:labkube-authenticator ;;
    gateway) echo //services/gateway:gateway ;;
    *) die "unknown service '$1' (scheduler, injector, authenticator, gateway)" ;;
  esac
}

# //services/x:y -> $bin_dir/services/x/y
binary_of() {
  local t
  t=$(target_of "$1")
  t=${t#//}
  echo "$bin_dir/${t%%:*}/${t#*:}"
}

# Prints "SONAME PATH" for every shared library ldd resolves for $1, and "INTERP PATH" for the
# dynamic loader. Dies on a library ldd cannot find.
shared_libraries() {
  local line
  ldd "$1" | while IFS= read -r line; do
    case $line in
      *"not found"*) die "$1: ldd: $line" ;;
      *" => "/*) awk '{print $1, $3}' <<<"$line" ;;
      *" => "*) ;; # linux-vdso.so.1 and friends: provided by the kernel
      [[:space:]]/*) awk '{print "INTERP", $1}' <<<"$line" ;;
      *) ;;
    esac
  done
}

# Fills $1 (an empty rootfs) with the binary of service $2, its libraries, certificates, users.
stage_rootfs() {
  local rootfs=$1 service=$2 bin libs soname path dir
  bin=$(binary_of "$service")
  install -d -m 0755 "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs"
  if [[ $strip_binary == 1 ]]; then
    strip --strip-unneeded -o "$rootfs/usr/local/bin/labkube-$service" "$bin"
    chmod 0755 "$rootfs/usr/local/bin/labkube-$service"
  else
    install -m 0755 "$bin" "$rootfs/usr/local/bin/labkube-$service"
  fi
  libs=$(shared_libraries "$bin") || exit 1
  while read -r soname path; do
    if [[ $soname == INTERP ]]; then
      # The loader must sit exactly where PT_INTERP points (/lib64/ld-linux-x86-64.so.2).
      install -D -m 0755 "$(readlink -f "$path")" "$rootfs$path"
      continue
    fi
    # A real file named by the soname the loader looks up, in the real directory of the host's
    # copy (/usr/lib/x86_64-linux-gnu: one of the loader's built-in search directories).
    dir=$(dirname "$(readlink -f "$path")")
    install -D -m 0644 "$(readlink -f "$path")" "$rootfs$dir/$soname"
  done <<<"$libs"
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] || die "/etc/ssl/certs/ca-certificates.crt missing (apt-get install ca-certificates)"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/nonexistent:/sbin/nologin\n' \
    "$nonroot" "$nonroot" >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%d:\n' "$nonroot" >"$rootfs/etc/group"
  chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
  # Reproducible metadata: root:root and one time stamp on everything, the rootfs itself included
  # (without root, umoci --rootless maps the caller to 0:0).
  ((EUID != 0)) || chown -R 0:0 "$rootfs"
  find "$rootfs" -exec touch -h -d "@$epoch" {} +
}

# Which family of files fills the image (sizes in bytes of the rootfs $1), biggest first.
size_breakdown() {
  find "$1" -type f -printf '%s %f\n' | awk '
    { f = $2
      if (f ~ /^labkube-/) g = "binary"
      else if (f ~ /^lib(grpc|gpr|upb|address_sorting|re2|cares)/) g = "grpc (+re2, c-ares, upb)"
      else if (f ~ /^libprotobuf/) g = "protobuf"
      else if (f ~ /^libabsl_/) g = "absl"
      else if (f ~ /^lib(ssl|crypto)\./) g = "openssl"
      else if (f ~ /^(libc|libm|libstdc\+\+|libgcc_s|ld-linux.*)\.so/) g = "libc/libm/libstdc++/libgcc_s/ld.so"
      else if (f ~ /^lib(curl|nghttp2|idn2|rtmp|ssh2|psl|gssapi|krb5|k5crypto|com_err|keyutils|ldap|lber|sasl2|zstd|gnutls|unistring|p11-kit|ffi|tasn1|nettle|hogweed|gmp|resolv)/)
        g = "libcurl + its dependencies (gnutls, p11-kit, kerberos, ldap, rtmp, ssh2, zstd, ...)"
      else if (f ~ /\.so/) g = "httplib + brotli, spdlog + fmt, yaml-cpp, zlib, libcrypt"
      else g = "etc (certificates, passwd, group)"
      s[g] += $1 }
    END { for (g in s) printf "%10.1f MB  %s\n", s[g] / 1e6, g }' | sort -rn
}

# Builds the image of service $1 into $out_dir.
build_image() {
  local service=$1 ref layout work bundle rootfs created archive
  ref="$repo_prefix/$service:$VERSION"
  archive="$out_dir/labkube-$service-$VERSION.oci.tar"
  created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
  work=$(mktemp -d "$out_dir/.work-$service.XXXXXX")
  layout=$work/layout bundle=$work/bundle rootfs=$work/bundle/rootfs
  log "$service: $ref from $(binary_of "$service")"
  umoci init --layout "$layout"
  umoci new --image "$layout:$ref"
  umoci unpack "${rootless[@]}" --image "$layout:$ref" "$bundle"
  stage_rootfs "$rootfs" "$service"
  umoci repack --image "$layout:$ref" --history.created "$created" \
    --history.created_by "tools/images.sh $service" --history.comment "labkube-$service $VERSION" "$bundle"
  umoci config --image "$layout:$ref" --no-history --created "$created" \
    --config.user "$nonroot:$nonroot" --config.entrypoint "/usr/local/bin/labkube-$service" \
    --config.workingdir / \
    --config.label "org.opencontainers.image.version=$VERSION" \
    --config.label "org.opencontainers.image.revision=$revision" \
    --config.label "org.opencontainers.image.source=$source_url" \
    --config.label "org.opencontainers.image.title=labkube-$service" \
    --config.label "org.opencontainers.image.created=$created"
  umoci gc --layout "$layout"
  # The OCI archive is the layout as a tar: sorted, one time stamp, root:root, so it is
  # byte-for-byte reproducible too (containerd and skopeo read it as oci-archive).
  tar --create --file "$archive.tmp" --format=ustar --sort=name --mtime="@$epoch" \
    --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' \
    -C "$layout" oci-layout index.json blobs
  mv "$archive.tmp" "$archive"
  report "$service" "$ref" "$layout" "$rootfs" "$archive"
  rm -rf "$work"
}

# Prints the sizes of one image and appends its line to images.tsv.
report() {
  local service=$1 ref=$2 layout=$3 rootfs=$4 archive=$5 digest layer blobs_size layers_raw=0
  digest=$(skopeo inspect --format '{{.Digest}}' "oci:$layout:$ref")
  for layer in $(skopeo inspect --format '{{range .Layers}}{{.}} {{end}}' "oci:$layout:$ref"); do
    layers_raw=$((layers_raw + $(gzip -dc "$layout/blobs/sha256/${layer#sha256:}" | wc -c)))
  done
  # After umoci gc the blobs are this image's manifest, config and gzip layer: what a registry
  # stores and a node pulls.
  blobs_size=$(find "$layout/blobs/sha256" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
  log "$service: manifest $digest"
  log "$service: uncompressed $(mb "$layers_raw") (layer tar), compressed $(mb "$blobs_size")" \
    "(gzip layer + config + manifest), archive $(mb "$(stat -c %s "$archive")")"
  log "$service: what fills it:"
  size_breakdown "$rootfs" | sed 's/^/[images]     /' >&2
  log "$service: biggest files:"
  find "$rootfs" -type f -printf '%s %P\n' | sort -rn |
    awk 'NR <= 6 { printf "[images]     %6.1f MB  /%s\n", $1 / 1e6, $2 }' >&2
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$service" "$ref" "$digest" "$layers_raw" "$blobs_size" \
    "$(basename "$archive")" >>"$out_dir/images.tsv"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB (%.1f MiB)", b / 1e6, b / 1048576 }'; }

main() {
  local build=1 services=() s targets=()
  while (($#)); do
    case $1 in
      --no-build) build=0 ;;
      --out) out_dir=$2; shift ;;
      -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
      -*) die "unknown option $1" ;;
      *) services+=("$1") ;;
    esac
    shift
  done
  ((${#services[@]})) || services=(scheduler injector authenticator gateway)
  local tool
  for tool in umoci skopeo ldd strip tar gzip git; do
    command -v "$tool" >/dev/null || die "$tool is missing (./dev.sh deps installs umoci and skopeo)"
  done
  for s in "${services[@]}"; do targets+=("$(target_of "$s")"); done
  if ((build)); then
    log "bazel build -c opt ${targets[*]}"
    # No convenience symlinks: bazel-bin and bazel-testlogs keep pointing at the default build.
    bazel build -c opt --symlink_prefix=/ "${targets[@]}"
  fi
  [[ -n $bin_dir ]] || bin_dir=$(cd "$root" && bazel info -c opt bazel-bin 2>/dev/null)
  for s in "${services[@]}"; do
    [[ -x $(binary_of "$s") ]] || die "$(binary_of "$s") missing: bazel build -c opt $(target_of "$s")"
  done
  revision=$(git rev-parse HEAD)
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}
  source_url=${LABKUBE_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || true)}
  if [[ -z $source_url ]]; then
    source_url=urn:labkube:no-git-remote
    log "no git remote 'origin' and no LABKUBE_IMAGE_SOURCE: label source=$source_url"
  fi
  if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    log "warning: the work tree has uncommitted changes; the revision label names HEAD ($revision)"
  fi
  mkdir -p "$out_dir"
  rm -f "$out_dir/images.tsv"
  for s in "${services[@]}"; do build_image "$s"; done
  log "images in $out_dir (summary: images.tsv):"
  awk -F'\t' '{ printf "[images]   %-14s %-44s %s %6.1f MB / %5.1f MB\n", $1, $2, $3, $4 / 1e6, $5 / 1e6 }' \
    "$out_dir/images.tsv" >&2
}

main "$@"
