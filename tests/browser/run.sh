#!/usr/bin/env bash
# Runs a browser test inside a network namespace of its own (TOOLCHAIN.md):
# Chromium and the servers it talks to see only their own loopback, so
# nothing leaves the machine.  Needs root (unshare -n); without it the test
# runs on the host's loopback.
set -euo pipefail
test_file=$1
# LECTERN_NETNS_VETH=1: also a veth pair (both ends inside the namespace,
# 10.99.0.1/24 on v0, the default route through it): Firefox gathers no
# candidates with only loopback.  Nothing connects the namespace outside.
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
  if [ "${LECTERN_NETNS_VETH:-0}" = 1 ]; then
    exec unshare -n -- sh -c 'ip link set lo up && ip link add v0 type veth peer name v1 &&
      ip addr add 10.99.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up &&
      ip route add default dev v0 && LECTERN_NETNS=1 exec node --test "$0"' "$test_file"
  fi
  exec unshare -n -- sh -c 'ip link set lo up && LECTERN_NETNS=1 exec node --test "$0"' "$test_file"
fi
echo "note: not root; running on the host's loopback" >&2
exec node --test "$test_file"
