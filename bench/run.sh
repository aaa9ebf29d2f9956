#!/usr/bin/env bash
# Benchmark: one synthetic publisher at ~1.5 Mbps and N synthetic WHEP
# viewers (bench/lectern-load.c, our own stack) against a real
# lectern-origin on loopback.  Reports the server's CPU per delivered
# packet and the viewers one core carries at that bitrate.  Not a test:
# figures go to bench/README.md.  Bounded: N <= 2000 viewers, S <= 600 s.
#
#   bash bench/run.sh [VIEWERS] [SECONDS] [SERVER_WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
viewers=${1:-50} seconds=${2:-20} workers=${3:-1}
build=${LECTERN_BUILD_DIR:-build}
[ -x "$build/bench/lectern-load" ] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d)
port=$((18600 + RANDOM % 1000))
cat > "$work/origin.yaml" <<YAML
node: {id: bench-origin, role: origin, region: local}
workers: $workers
http: {listen: 127.0.0.1:$port}
ice: {addresses: [127.0.0.1], port_range: 40000-44999}
limits: {max_viewers: 100000}
auth: {open_publish: true}   # the bench publishes without a token
log: {level: warn}
YAML
"$build/origin/lectern-origin" -c "$work/origin.yaml" 2> "$work/origin.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # utime + stime, clock ticks
# Per worker thread (named lectern-w<i>): how the load spreads over them.
wcpu() { for t in /proc/$pid/task/*; do [[ $(cat "$t/comm") == lectern-w* ]] && echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done | sort; }
out() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^lectern_rtp_packets_total\{direction="out"/ {s += $2} END {print s + 0}'; }
tck=$(getconf CLK_TCK)
# The load runs `seconds` after a 2 s settle; sample the server around it.
"$build/bench/lectern-load" --url "http://127.0.0.1:$port" --viewers "$viewers" --seconds "$seconds" > "$work/load.json" &
lpid=$!
sleep $((2 + viewers / 100 + 2))  # publisher up, viewers joined, settled
c0=$(cpu) p0=$(out) t0=$(date +%s.%N) w0=$(wcpu)
sleep $((seconds - 2))
c1=$(cpu) p1=$(out) t1=$(date +%s.%N) w1=$(wcpu)
wait $lpid
awk -v c0="$c0" -v c1="$c1" -v p0="$p0" -v p1="$p1" -v t0="$t0" -v t1="$t1" -v tck="$tck" \
    -v n="$viewers" -v w="$workers" -v load="$(sed 's/,"per_viewer":\[.*\]//' "$work/load.json")" 'BEGIN {
  dt = t1 - t0; cpu = (c1 - c0) / tck; pkts = p1 - p0;
  us = pkts ? cpu / pkts * 1e6 : 0;
  per_viewer = cpu / dt / n;              # cores per viewer
  printf "viewers %d, server workers %d, %.1f s: server CPU %.2f s (%.0f%% of a core), %d packets out (%.0f/s)\n", n, w, dt, cpu, cpu / dt * 100, pkts, pkts / dt;
  printf "  %.2f us of server CPU per delivered packet; ~%.0f viewers per core at this bitrate\n", us, per_viewer ? 1 / per_viewer : 0;
  printf "  load generator saw: %s\n", load;
}'
# CPU seconds per worker thread over the interval.
join -j1 <(echo "$w0") <(echo "$w1") | awk -v tck="$tck" '{printf "  %s: %.2f s CPU\n", $1, ($3 - $2) / tck}'
