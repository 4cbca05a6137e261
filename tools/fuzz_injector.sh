#!/usr/bin/env bash
# Fuzzes the injector's AdmissionReview -> decision -> JSON Patch path with libFuzzer: the
# `admission` target of tools/fuzz.sh (built outside Bazel with clang and
# -fsanitize=fuzzer,address,undefined, run on a working copy of services/injector/testdata/
# admission and bad; see tools/fuzz.sh), kept under its old name for its callers.
#
# Usage: tools/fuzz_injector.sh [seconds]        (default 30)
# Env:   FUZZ_OUT  build, corpus and crash files (default ${TMPDIR:-/tmp}/labkube-fuzz)
#        CXX_FUZZ  the clang++ to use (default clang++-14, else clang++)
# Exit:  0 when the run finished without a crash; non-zero on a crash, leak, sanitizer report
#        or invariant violation (the reproducer is saved under $FUZZ_OUT/admission/crashes/).
# Reproduce: $FUZZ_OUT/admission/admission_fuzzer $FUZZ_OUT/admission/crashes/<file>
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/fuzz.sh" "${1:-30}" admission
