#!/usr/bin/env bash
# Counts test cases from the bazel result lines in $1 ("//pkg:target  PASSED in ...") and the
# test.xml of each target, prints per-target failures and, as its last line, "N passed, N failed".
# Exit status 1 if anything failed. A target without test cases in its XML counts as one test.
set -uo pipefail
results=$1
testlogs=$(bazel info bazel-testlogs 2>/dev/null)
passed=0 failed=0
while read -r target status; do
  xml="$testlogs/$(sed 's#^//##; s#:#/#' <<<"$target")/test.xml"
  cases=0 bad=0
  if [[ -f $xml ]]; then
    cases=$(grep -c '<testcase' "$xml" || true)
    bad=$(awk '/<testcase/{if(open&&fail)n++; open=1; fail=0} /<failure|<error/{fail=1} END{if(open&&fail)n++; print n+0}' "$xml")
  fi
  ((cases > 0)) || cases=1
  case $status in
    PASSED | "(cached) PASSED" | FLAKY) ((bad = 0)) ;;
    *) ((bad > 0)) || bad=1; echo "FAILED: $target ($status)" >&2 ;;
  esac
  passed=$((passed + cases - bad))
  failed=$((failed + bad))
done < <(sed -E 's#^(//[^ ]+) +((\(cached\) )?[A-Z ]+[A-Z]).*#\1 \2#' "$results" | sed -E 's/ +in$//')
echo "$passed passed, $failed failed"
((failed == 0))
