#!/usr/bin/env bash
# Process test: the real binaries as a user runs them.
#   - a bad config: a clear file:line: key: reason and a non-zero exit;
#   - the example configs pass --check-config;
#   - a good config: /healthz 200, /readyz 200; SIGHUP applies a live change
#     and reports a restart-only one; SIGTERM drains (readyz 503 is not
#     observable for a node with no sessions) and exits 0 within 2 s;
#   - --version and --help.
#   - /metrics after some traffic passes `promtool check metrics`;
# Usage: test_node_process.sh ORIGIN_BIN EDGE_BIN SOURCE_DIR PROMTOOL
set -euo pipefail
origin=$1 edge=$2 src=$3 promtool=${4:-promtool}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# What a node must never print (as integration/lib.mjs checks).
dirty='ERROR: [A-Za-z]+Sanitizer|runtime error:|double free|free\(\): |malloc\(\): |corrupted '
fail() { echo "FAIL: $*" >&2; [ -f "$work/log" ] && sed 's/^/  log: /' "$work/log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# The node listens on port 0 (the kernel picks a free one) and logs the port.
port_from_log() {
  local p=
  for _ in $(seq 1 50); do
    p=$(grep -o 'HTTP port [0-9]*' "$1" 2>/dev/null | head -1 | awk '{print $3}')
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || fail "no HTTP port in the log"
  echo "$p"
}

# --- version and help
grep -q '^lectern-origin [0-9]' <<<"$("$origin" --version)" || fail "--version"
grep -q -- '--check-config' <<<"$("$edge" --help)" || fail "--help"
"$origin" --no-such-flag >/dev/null 2>&1 && fail "an unknown flag must fail"
pass "version, help, unknown flag"

# --- example configs
"$origin" --check-config -c "$src/deploy/origin.yaml" >/dev/null || fail "deploy/origin.yaml"
"$edge" --check-config -c "$src/deploy/edge.yaml" >/dev/null || fail "deploy/edge.yaml"
pass "example configs pass --check-config"

# --- a bad config
cat > "$work/bad.yaml" <<'YAML'
node:
  id: origin-1
  role: origin
  region: eu-central-1
http:
  listen: 0.0.0.0:notaport
ice:
  port_range: 30000-20000
YAML
set +e
out=$("$origin" -c "$work/bad.yaml" 2>&1); rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a bad config must exit non-zero"
grep -q "bad.yaml:6: http.listen: '0.0.0.0:notaport' is not an address" <<<"$out" \
  || fail "bad listen not reported with its line: $out"
grep -q "bad.yaml:8: ice.port_range: port range is inverted" <<<"$out" \
  || fail "inverted range not reported: $out"
set +e
"$origin" -c "$work/missing.yaml" >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a missing config file must fail"
pass "bad config: file:line: key: reason, exit $rc"

# --- a good config, a running node
printf '# operators\nadmin-secret-token\n' > "$work/admin-tokens"
printf 'teacher-a\n' > "$work/publish-tokens"
cat > "$work/good.yaml" <<YAML
node: {id: origin-test, role: origin, region: eu-central-1, drain_timeout: 5s}
workers: 2
http: {listen: 127.0.0.1:0}
auth: {admin_tokens_file: $work/admin-tokens, publish_tokens_file: $work/publish-tokens}
ice:
  addresses: [127.0.0.1]
  servers: ['stun:stun.example.net:3478', 'turn:turn.example.net:3478?transport=udp']
  server_username: class-user
  server_credential: s3cret
log: {level: info, format: json}
YAML
"$origin" -c "$work/good.yaml" > "$work/log" 2>&1 &
pid=$!
port=$(port_from_log "$work/log")
body=$(curl -sf "http://127.0.0.1:$port/healthz") || fail "/healthz"
grep -q '"status":"ok"' <<<"$body" || fail "/healthz body: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 200 ] || fail "/readyz: $code"
grep -q '"level":"info"' "$work/log" || fail "JSON log lines expected"
pass "/healthz 200, /readyz 200, JSON logs"

# --- admin drain: a token is required; drain turns /readyz 503, DELETE undoes it
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/admin/drain")
[ "$code" = 401 ] || fail "drain without a token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong' "http://127.0.0.1:$port/v1/admin/drain")
[ "$code" = 401 ] || fail "drain with a wrong token: $code"
out=$(curl -sf -X POST -H 'Authorization: Bearer admin-secret-token' "http://127.0.0.1:$port/v1/admin/drain")
grep -q '"draining":true' <<<"$out" || fail "drain with the token: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 503 ] || fail "/readyz while draining: $code"
grep -q '^lectern_draining 1$' <<<"$(curl -s "http://127.0.0.1:$port/metrics")" || fail "lectern_draining 1"
out=$(curl -sf -X DELETE -H 'Authorization: Bearer admin-secret-token' "http://127.0.0.1:$port/v1/admin/drain")
grep -q '"draining":false' <<<"$out" || fail "undrain: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 200 ] || fail "/readyz after undrain: $code"
pass "admin drain: 401 without the token, /readyz 503 while draining, DELETE resumes"

# --- /metrics: well-formed after traffic of several kinds
for p in /healthz /readyz /nope /v1/cluster; do curl -s -o /dev/null "http://127.0.0.1:$port$p"; done
curl -s -X DELETE -o /dev/null "http://127.0.0.1:$port/healthz"
curl -sf "http://127.0.0.1:$port/metrics" > "$work/metrics.txt" || fail "/metrics"
"$promtool" check metrics < "$work/metrics.txt" || fail "promtool check metrics: $(cat "$work/metrics.txt")"
grep -q 'lectern_http_requests_total{route="unmatched",code="405"} 1' "$work/metrics.txt" \
  || fail "request counts: $(grep http_requests "$work/metrics.txt")"
grep -q '^lectern_build_info{version="' "$work/metrics.txt" || fail "build_info"
grep -q '^process_resident_memory_bytes [1-9]' "$work/metrics.txt" || fail "process metrics"
pass "/metrics passes promtool check metrics"

# --- SIGHUP re-reads the token files even when the config is unchanged:
# a revoked teacher token is refused, the new one taken, without a restart
whip() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
  -H 'Content-Type: application/sdp' --data 'v=0' "http://127.0.0.1:$port/whip/class"; }
[ "$(whip teacher-a)" = 400 ] || fail "teacher-a before the reload: $(whip teacher-a)"
[ "$(whip teacher-b)" = 401 ] || fail "teacher-b before the reload"
printf 'teacher-b\n' > "$work/publish-tokens"
printf 'admin-two\n' > "$work/admin-tokens"
kill -HUP "$pid"
for _ in $(seq 1 30); do grep -q 'reload: no config change' "$work/log" && break; sleep 0.1; done
grep -q 'reload: no config change' "$work/log" || fail "SIGHUP with an unchanged config"
[ "$(whip teacher-a)" = 401 ] || fail "the revoked teacher-a still publishes: $(whip teacher-a)"
[ "$(whip teacher-b)" = 400 ] || fail "teacher-b after the reload: $(whip teacher-b)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer admin-secret-token' "http://127.0.0.1:$port/v1/admin/drain")
[ "$code" = 401 ] || fail "the revoked admin token still drains: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Authorization: Bearer admin-two' "http://127.0.0.1:$port/v1/admin/drain")
[ "$code" = 200 ] || fail "the new admin token: $code"
pass "SIGHUP: token files re-read with the config unchanged (revoked tokens refused)"

# --- WHIP (RFC 9725): ICE servers as Link headers on 201; PATCH checks If-Match
resp=$(curl -s -D - -o "$work/answer.sdp" -X POST -H 'Authorization: Bearer teacher-b' \
  -H 'Content-Type: application/sdp' --data-binary @"$src/tests/fuzz/corpus/fuzz_sdp/chrome_whip_offer.sdp" \
  "http://127.0.0.1:$port/whip/linked")
grep -q '^HTTP/1.1 201' <<<"$resp" || fail "WHIP with a real offer: $resp"
grep -q '^Link: <stun:stun.example.net:3478>; rel="ice-server"' <<<"$resp" || fail "STUN Link header: $resp"
grep -q '^Link: <turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="class-user"; credential="s3cret"; credential-type="password"' <<<"$resp" \
  || fail "TURN Link header: $resp"
loc=$(sed -n 's/^Location: \(.*\)\r$/\1/p' <<<"$resp")
etag=$(sed -n 's/^ETag: \(.*\)\r$/\1/p' <<<"$resp")
patch() { curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "If-Match: $1" \
  -H 'Content-Type: application/trickle-ice-sdpfrag' --data $'a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n' "$loc"; }
[ "$(patch '"0000"')" = 412 ] || fail "PATCH with a stale If-Match: $(patch '"0000"')"
[ "$(patch "$etag")" = 204 ] || fail "PATCH with the session's ETag: $(patch "$etag")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$loc")" = 200 ] || fail "DELETE the session"
pass "WHIP: Link headers for ICE servers, If-Match on PATCH (412 when stale)"

# --- secure by default: no publish tokens and no auth.open_publish: WHIP is 403
: > "$work/publish-tokens"
kill -HUP "$pid"
for _ in $(seq 1 30); do [ "$(grep -c 'reload: no config change' "$work/log")" -ge 2 ] && break; sleep 0.1; done
[ "$(whip teacher-b)" = 403 ] || fail "publishing with no tokens set: $(whip teacher-b), want 403"
body=$(curl -s -X POST -H 'Content-Type: application/sdp' --data 'v=0' "http://127.0.0.1:$port/whip/class")
grep -q 'open_publish' <<<"$body" || fail "the 403 says how to open publishing: $body"
pass "no publish tokens: WHIP refused (403) unless auth.open_publish"

# --- SIGHUP: a live change applies, a restart-only change is reported
sed -i 's/level: info/level: debug/; s/id: origin-test/id: origin-renamed/; s/^auth: {/auth: {private_status: true, /' "$work/good.yaml"
kill -HUP "$pid"
for _ in $(seq 1 30); do grep -q 'reload: applied' "$work/log" && break; sleep 0.1; done
grep -q 'reload: log.level updated' "$work/log" || fail "SIGHUP did not apply log.level"
grep -q 'reload: node.id changed; it takes effect after a restart' "$work/log" \
  || fail "SIGHUP did not report the restart-only key"
grep -q '"node":"origin-test"' <<<"$(curl -sf "http://127.0.0.1:$port/healthz")" \
  || fail "node.id must keep its running value until a restart"
# auth.private_status (live): /metrics and /v1/cluster need an admin token.
for p in /metrics /v1/cluster; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$p")
  [ "$code" = 401 ] || fail "$p without a token under auth.private_status: $code"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer admin-two' "http://127.0.0.1:$port$p")
  [ "$code" = 200 ] || fail "$p with the admin token: $code"
done
# A broken file on SIGHUP keeps the running config.
echo "node: [" > "$work/good.yaml"
kill -HUP "$pid"
for _ in $(seq 1 30); do grep -q 'reload failed' "$work/log" && break; sleep 0.1; done
grep -q 'reload failed' "$work/log" || fail "a broken reload must be reported"
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || fail "node must survive a broken reload"
pass "SIGHUP: live keys applied, restart keys reported, broken file refused"

# --- SIGTERM: exit 0 within 2 s
start=$(date +%s%N)
kill -TERM "$pid"
rc=0
for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "still running 2 s after SIGTERM"
wait "$pid" || rc=$?
pid=
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 0 ] || fail "SIGTERM exit status $rc"
grep -q '"msg":"stopped"' "$work/log" || fail "no clean stop logged"
! grep -Eq "$dirty" "$work/log" || fail "a sanitizer or allocator report at exit"
pass "SIGTERM: exit 0 in ${ms} ms"

# --- a port already in use: a clear error and a non-zero exit
"$edge" -c /dev/stdin > "$work/log" 2>&1 <<YAML &
node: {id: edge-a, role: edge, region: us-east-1}
http: {listen: 127.0.0.1:$port}
YAML
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
set +e
out=$("$edge" -c /dev/stdin 2>&1 <<YAML
node: {id: edge-b, role: edge, region: us-east-1}
http: {listen: 127.0.0.1:$port}
YAML
); rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a busy port must fail"
grep -q "cannot listen on 127.0.0.1:$port: address already in use" <<<"$out" \
  || fail "busy port message: $out"
kill -TERM "$pid"; wait "$pid" || fail "edge exit status"
pid=
! grep -Eq "$dirty" "$work/log" || fail "a sanitizer or allocator report at exit"
pass "busy port: clear error, exit $rc"
echo "process tests passed"
