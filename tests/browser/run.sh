#!/usr/bin/env bash
# Runs a browser test inside a network namespace of its own (TOOLCHAIN.md):
# Chromium and the servers it talks to see only their own loopback, so
# nothing leaves the machine.  Needs root (unshare -n); without it the test
# runs on the host's loopback.
set -euo pipefail
test_file=$1
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  exec unshare -n -- sh -c 'ip link set lo up && exec node --test "$0"' "$test_file"
fi
echo "note: not root; running on the host's loopback" >&2
exec node --test "$test_file"
