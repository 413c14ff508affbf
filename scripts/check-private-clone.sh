#!/usr/bin/env bash
# Issue 12's manual check: as root, a clone in a private (mode 700) directory runs the demo and
# the tests with the embedded Postgres (no DATABASE_URL). Clones this repository's HEAD (commit
# first), copies its node_modules instead of downloading, runs `npm run demo` until it prints
# its psql line (bounded wait), stops it with SIGINT, then runs `npm test`. Not part of CI.
#
#   scripts/check-private-clone.sh            # as root; DEMO_WAIT=<seconds> (default 300)
set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
demo_wait=${DEMO_WAIT:-300}
[ "$(id -u)" = 0 ] || echo "note: not running as root, so the case this checks (Postgres run as the postgres user) does not arise"

dir=$(mktemp -d)
chmod 700 "$dir"
demo_pid=
moved=
cleanup() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then kill -KILL -- "-$demo_pid" 2>/dev/null || true; fi
  if [ -n "$moved" ]; then rm -rf "$moved"; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

echo "== clone into $dir/elsync (mode 700)"
git clone -q "$repo" "$dir/elsync"
cd "$dir/elsync"
if [ -d "$repo/node_modules" ]; then
  cp -a "$(realpath "$repo/node_modules")" node_modules
else
  npm ci --no-audit --no-fund
fi
unset DATABASE_URL TEST_DATABASE_URL ELSYNC_DATA_DIR ELSYNC_CONFIG_DIR

echo "== npm run demo (until its psql line, at most ${demo_wait} s)"
# its own session, so that SIGINT reaches npm, tsx and node together, as Ctrl-C would
ELSYNC_ADMIN_PORT=0 setsid npm run demo -- --no-activity >demo.log 2>&1 &
demo_pid=$!
deadline=$((SECONDS + demo_wait))
until grep -qs "psql '" demo.log; do
  kill -0 "$demo_pid" 2>/dev/null || { cat demo.log; fail "the demo exited before printing its psql line"; }
  [ "$SECONDS" -lt "$deadline" ] || { cat demo.log; fail "no psql line within ${demo_wait} s"; }
  sleep 1
done
moved=$(sed -n 's/.*keeps its data in \([^ ]*\)$/\1/p' demo.log | head -1)
kill -INT -- "-$demo_pid"
deadline=$((SECONDS + 60))
while kill -0 "$demo_pid" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || { cat demo.log; fail "the demo did not stop within 60 s of SIGINT"; }
  sleep 1
done
demo_pid=
cat demo.log
if grep -Eq "EACCES|Unhandled|^\s+at " demo.log; then fail "the demo log shows an unhandled error"; fi
grep -q "stopping" demo.log || fail "the demo did not stop cleanly"
echo "== demo: ok"

echo "== npm test (DATABASE_URL unset)"
npm test || fail "npm test failed"
echo "PASS: as $(id -un), a clone in a mode-700 directory runs the demo and the tests"
