#!/usr/bin/env bash
# Fuzzes the injector's AdmissionReview -> decision -> JSON Patch path with libFuzzer.
#
# Bazel's toolchain is gcc, so this builds outside Bazel with Debian's clang (clang-14 +
# libclang-rt-14-dev): the parsing/decision/patch sources, the JSON helpers and the test JSON
# Patch applier, plus services/injector/fuzz/admission_fuzzer.cc, with
# -fsanitize=fuzzer,address,undefined; Abseil flags come from pkg-config. It then runs the
# fuzzer for a bounded time on a working copy of the seed corpus (services/injector/testdata/
# admission and bad; the repository's files are never modified).
#
# Usage: tools/fuzz_injector.sh [seconds]        (default 30)
# Env:   FUZZ_OUT  build, corpus and crash files (default ${TMPDIR:-/tmp}/labkube-fuzz-injector)
#        CXX_FUZZ  the clang++ to use (default clang++-14, else clang++)
# Exit:  0 when the run finished without a crash; non-zero on a crash, leak, sanitizer report
#        or invariant violation (the reproducer is saved under $FUZZ_OUT/crashes/).
# Reproduce: $FUZZ_OUT/admission_fuzzer $FUZZ_OUT/crashes/<file>
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-30}"
out="${FUZZ_OUT:-${TMPDIR:-/tmp}/labkube-fuzz-injector}"
cxx="${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++)}"
[[ -n "$cxx" ]] || { echo "fuzz_injector: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

sources=(
  services/injector/fuzz/admission_fuzzer.cc
  services/injector/admission.cc
  services/injector/mutator.cc
  services/injector/patch_builder.cc
  services/injector/slot_share.cc
  lib/kube/json.cc
  lib/kube/quantity.cc
  lib/kube/testing/patch.cc
)
mkdir -p "$out/corpus" "$out/crashes"
cp "$root"/services/injector/testdata/admission/* "$root"/services/injector/testdata/bad/* "$out/corpus/"

# shellcheck disable=SC2207
absl_flags=($(pkg-config --cflags --libs absl_status absl_statusor absl_strings absl_str_format absl_time))
echo "fuzz_injector: building with $cxx" >&2
# RapidJSON's iterators trip clang's C++20 reversed-operator warning; not ours to fix here.
"$cxx" -std=c++20 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-ambiguous-reversed-operator \
  -fsanitize=fuzzer,address,undefined \
  -I"$root" "${sources[@]/#/$root/}" "${absl_flags[@]}" -o "$out/admission_fuzzer"

echo "fuzz_injector: fuzzing for ${seconds}s (corpus $out/corpus)" >&2
# Any sanitizer report stops the run, except the suppressed known ones in RapidJSON 1.1.0.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/services/injector/fuzz/ubsan.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
"$out/admission_fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$root/services/injector/fuzz/admission.dict" \
  -artifact_prefix="$out/crashes/" "$out/corpus"
echo "fuzz_injector: no crash in ${seconds}s" >&2
