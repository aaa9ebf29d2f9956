#!/usr/bin/env bash
# Benchmark: the delay each cascade hop adds.  Starts on loopback a
# nats-server, an origin, edge A (fed by the origin) and edge B (fed by A:
# relay.prefer), then lectern-load publishes ~1.5 Mbps to the origin with
# each video packet carrying its send time, and its viewers play at the
# origin (0 hops), at A (1 hop) and at B (2 hops) in turn.  Prints the
# end-to-end delay p50/p95/p99 for each.  Not a test: figures go to
# bench/README.md.  Bounded: VIEWERS <= 200, SECONDS <= 120 per step.
#
#   bash bench/hops.sh [VIEWERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
viewers=${1:-5} seconds=${2:-10}
[ "$viewers" -le 200 ] && [ "$seconds" -le 120 ] || { echo "VIEWERS <= 200, SECONDS <= 120" >&2; exit 2; }
build=${LECTERN_BUILD_DIR:-build}
[ -x "$build/bench/lectern-load" ] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d)
base=$((19000 + RANDOM % 500 * 4))
nats=$((base + 3))
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
nats-server -a 127.0.0.1 -p "$nats" > "$work/nats.log" 2>&1 &
pids+=($!)
trust=$("$build/origin/lectern-origin" --new-cluster-key "$work/cluster.key" | sed -n 's/^cluster.trust_key: //p')
node() { # role id region http-port relay-extra
  "$build/origin/lectern-origin" --issue-identity "$2" --cluster-key "$work/cluster.key" --out "$work/$2.identity"
  cat > "$work/$2.yaml" <<YAML
node: {id: $2, role: $1, region: $3}
workers: 1
http: {listen: 127.0.0.1:$4}
ice: {addresses: [127.0.0.1]}
relay: {listen: 127.0.0.1:0$5}
nats: {urls: ['nats://127.0.0.1:$nats']}
cluster: {trust_key: $trust, identity_file: $work/$2.identity}
regions:
  - {name: eu-central-1, lat: 50.1, lon: 8.7}
  - {name: us-east-1, lat: 39.0, lon: -77.5}
  - {name: ap-southeast-2, lat: -33.9, lon: 151.2}
auth: {open_publish: true}
log: {level: warn}
YAML
  bin=$build/edge/lectern-edge
  [ "$1" = origin ] && bin=$build/origin/lectern-origin
  "$bin" -c "$work/$2.yaml" 2> "$work/$2.log" &
  pids+=($!)
}
sleep 0.3
node origin origin eu-central-1 "$base" ""
node edge edge-a us-east-1 $((base + 1)) ""
node edge edge-b ap-southeast-2 $((base + 2)) ", prefer: [edge-a]"
sleep 3 # the cluster forms and measures its RTTs
load() { "$build/bench/lectern-load" --url "http://127.0.0.1:$base" --stream hops "$@"; }
# The publisher runs through all three steps; each step's viewers join where they play.
total=$((3 * (seconds + 6) + 4))
load --view-url "http://127.0.0.1:$base" --viewers 1 --seconds "$total" > "$work/pub.json" &
lp=$!
sleep 3
for hop in 0 1 2; do
  load --view-only --view-url "http://127.0.0.1:$((base + hop))" --viewers "$viewers" \
    --seconds "$seconds" > "$work/hop$hop.json"
  printf '%d hop(s): %s\n' "$hop" "$(cat "$work/hop$hop.json")"
done
kill $lp 2>/dev/null || true
