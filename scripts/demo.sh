#!/usr/bin/env bash
# The demo: installs what is missing, builds, then starts on this machine a
# nats-server, one origin (eu-central-1) and two edges (us-east-1,
# ap-southeast-2), each its own process with its own config, and prints
# where to go.  Ctrl-C stops everything.
#
# Ports (override with LECTERN_DEMO_BASE, default 8080): origin HTTP BASE,
# edges BASE+1 and BASE+2; NATS BASE-3858 (4222 by default).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh --no-npm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

base=${LECTERN_DEMO_BASE:-8080}
nats_port=$((base - 3858))
run=$(mktemp -d /tmp/lectern-demo.XXXXXX)
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped; logs are in $run"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

regions='regions:
  - {name: eu-central-1, lat: 50.1, lon: 8.7}
  - {name: us-east-1, lat: 39.0, lon: -77.5}
  - {name: ap-southeast-2, lat: -33.9, lon: 151.2}'

# The cluster's key (it stays here, off the nodes) and each node's identity:
# every bus message is signed and checked (README "Security model").
trust=$("$root/build/origin/lectern-origin" --new-cluster-key "$run/cluster.key" | sed -n 's/^cluster.trust_key: //p')

# node_config ROLE ID REGION HTTP_PORT RELAY_PORT ICE_RANGE
node_config() {
  "$root/build/origin/lectern-origin" --issue-identity "$2" --cluster-key "$run/cluster.key" \
    --out "$run/$2.identity"
  cat > "$run/$2.yaml" <<YAML
node: {id: $2, role: $1, region: $3}
workers: 2
http:
  listen: 127.0.0.1:$4
  public_url: http://127.0.0.1:$4
  cors_origins: ["*"]        # steered viewers POST here from another node's page
ice:
  addresses: [127.0.0.1]
  port_range: $6
relay:
  listen: 127.0.0.1:$5
  public_addr: 127.0.0.1:$5
nats:
  urls: [nats://127.0.0.1:$nats_port]
cluster:
  trust_key: $trust
  identity_file: $run/$2.identity
$regions
log: {level: info, format: text}
YAML
}

node_config origin origin-eu eu-central-1 "$base" 7000 20000-20999
node_config edge edge-us us-east-1 $((base + 1)) 7001 21000-21999
node_config edge edge-ap ap-southeast-2 $((base + 2)) 7002 22000-22999
# Publishing needs a token (auth.open_publish is false by default): the demo
# makes one and puts it in the teacher's URL below; and an admin token for
# lectern-ctl (drain, undrain, end) on every node.
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$token" > "$run/publish-tokens"
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$run/admin-tokens"
chmod 600 "$run/publish-tokens" "$run/admin-tokens"
printf 'auth: {publish_tokens_file: %s, admin_tokens_file: %s}\n' "$run/publish-tokens" \
  "$run/admin-tokens" >> "$run/origin-eu.yaml"
for e in edge-us edge-ap; do
  printf 'auth: {admin_tokens_file: %s}\n' "$run/admin-tokens" >> "$run/$e.yaml"
done

nats-server -a 127.0.0.1 -p "$nats_port" > "$run/nats.log" 2>&1 &
pids+=($!)
"$root/build/origin/lectern-origin" -c "$run/origin-eu.yaml" > "$run/origin-eu.log" 2>&1 &
pids+=($!)
"$root/build/edge/lectern-edge" -c "$run/edge-us.yaml" > "$run/edge-us.log" 2>&1 &
pids+=($!)
"$root/build/edge/lectern-edge" -c "$run/edge-ap.yaml" > "$run/edge-ap.log" 2>&1 &
pids+=($!)

for port in "$base" $((base + 1)) $((base + 2)); do
  for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 \
    || { echo "a node on port $port did not start; see $run"; exit 1; }
done

cat <<TXT

Lectern demo is running (configs and logs in $run):
  nats-server          nats://127.0.0.1:$nats_port
  origin  eu-central-1 http://127.0.0.1:$base
  edge    us-east-1    http://127.0.0.1:$((base + 1))
  edge    ap-southeast-2 http://127.0.0.1:$((base + 2))

  teacher page:  http://127.0.0.1:$base/publish?token=$token   (press "Go live")
  viewer page:   http://127.0.0.1:$base/watch/class    (open it in another tab)
  cluster view:  http://127.0.0.1:$base/v1/cluster     (the same on every node)
  streams:       http://127.0.0.1:$base/v1/streams
  metrics:       http://127.0.0.1:$base/metrics

Viewers are steered to the nearest node with room (307): here every page is
on this machine, so each node serves its own (the origin serves its own
region, eu-central-1).  Where a student elsewhere would go:
  http://127.0.0.1:$base/v1/steer?stream=class&region=us-east-1
The edges' viewer pages (http://127.0.0.1:$((base + 1))/watch/class) play too:
an edge pulls the stream from the origin over a relay leg for its first viewer.

Operators: build/ctl/lectern-ctl --url http://127.0.0.1:$base nodes
  (also: streams, path class; drain edge-us, end class with
   --token-file $run/admin-tokens)
Press Ctrl-C to stop everything.
TXT

# Stay until Ctrl-C or until a process dies.
while :; do
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "a process ($p) exited; see the logs in $run"
      exit 1
    fi
  done
  sleep 1
done
