#!/usr/bin/env bash
# The web page's browser test (web_test.js) as a Bazel sh_test. Makes what it needs: checks
# chromium (dev.sh installs Debian's), installs playwright-core from npm with the committed
# package-lock.json into $LABKUBE_CACHE/web-e2e (npm ci, again only when the lock changes),
# checks the page's certificate against the lab's CA with curl, then runs node.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LABKUBE_CACHE:-$HOME/.cache/labkube}/web-e2e
chromium=${CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || { echo "FAIL setup: no $chromium: apt-get install -y chromium (./dev.sh deps)"; exit 1; }
[[ -n ${LABKUBE_WEB:-} && -n ${LABKUBE_CA:-} ]] ||
  { echo "FAIL setup: LABKUBE_WEB/LABKUBE_CA not set: ./dev.sh up, then export the variables of tools/lab.sh env"; exit 1; }
mkdir -p "$cache"
if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || [[ ! -d $cache/node_modules/playwright-core ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "FAIL setup: npm ci of playwright-core in $cache failed"; exit 1; }
fi
# The page is served with the gateway's certificate, valid for the lab's address.
curl -fsS --cacert "$LABKUBE_CA" -o /dev/null "$LABKUBE_WEB" ||
  { echo "FAIL the page does not answer over verified HTTPS at $LABKUBE_WEB"; exit 1; }
echo "PASS the page answers over HTTPS with the lab's certificate"
NODE_PATH=$cache/node_modules CHROMIUM=$chromium exec node "$here/web_test.js"
