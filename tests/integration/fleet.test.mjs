// The fleet with real processes (issue 16): steering ranks origins too, so
// a client in Frankfurt stays in Frankfurt on the origin while it has room
// and moves to the nearest edge when it is full; heartbeats carry measured
// egress, CPU and sessions (a synthetic load from lectern-load); the
// cluster's audience per stream and region in /v1/cluster and /metrics;
// join failures by reason; and the Grafana dashboard asks only for series
// a live /metrics has.  Client addresses are documentation ranges (RFC
// 5737) that only ever appear in X-Forwarded-For: no traffic leaves
// loopback.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as lib from './lib.mjs';
import { NatsServer, Node, waitFor, load } from './lib.mjs';

const procs = [];
after(() => lib.teardown(procs));

const FRA = '192.0.2.10';
const dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-fleet-'));
const adminTokens = path.join(dir, 'admin-tokens');
writeFileSync(adminTokens, 'fleet-admin\n');
const geo = `geo:
  cidr_regions: {"192.0.2.0/24": eu-central-1, "198.51.100.0/24": us-east-1, "203.0.113.0/24": ap-southeast-2}
auth: {admin_tokens_file: ${adminTokens}}
ice: {addresses: [127.0.0.1]}
`;
const http = 'trusted_proxies: [127.0.0.0/8]';
const BITRATE = 2000000;

// Where a WHEP offer from `ip` posted to `node` is sent (its own URL when
// served there).
async function steeredTo(node, ip) {
  const r = await fetch(`${node.url}/whep/class`, {
    method: 'POST', redirect: 'manual', body: 'v=0\r\n',
    headers: { 'Content-Type': 'application/sdp', 'X-Forwarded-For': ip },
  });
  await r.text();
  if (r.status === 307) return new URL(r.headers.get('location')).origin;
  return node.url;
}

function selfIn(view, id) { return view.nodes.find((n) => n.id === id); }

let nats, origin, edgeUs, edgeAp;

test('the fleet: steering, measured load, audience, dashboard', { timeout: 150000 }, async (t) => {
  nats = await NatsServer.start();
  procs.push(nats);
  origin = new Node('origin', 'origin-eu', 'eu-central-1', nats.url,
    `${geo}limits: {max_viewers: 2}\n`, http);
  edgeUs = new Node('edge', 'edge-us', 'us-east-1', nats.url, geo, http);
  edgeAp = new Node('edge', 'edge-ap', 'ap-southeast-2', nats.url, geo, http);
  const nodes = [origin, edgeUs, edgeAp];
  procs.push(...nodes);
  await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes)
    await waitFor(async () => (await n.ids()).length === 3, 5000, `${n.id} to see the cluster`);

  await t.test('a Frankfurt client is served by the origin in Frankfurt while it has room', async () => {
    for (const n of nodes)
      assert.equal(await steeredTo(n, FRA), origin.url, `${n.id} sends Frankfurt to the origin`);
    const s = await (await fetch(`${edgeAp.url}/v1/steer?stream=class`,
      { headers: { 'X-Forwarded-For': FRA } })).json();
    assert.equal(s.client.region, 'eu-central-1');
    assert.equal(s.ranked[0].node, 'origin-eu');
    assert.match(s.ranked[0].reason, /^eu-central-1 origin: ~\d+ ms/);
    // Clients of other regions still go to their own edges.
    assert.equal(await steeredTo(origin, '198.51.100.7'), edgeUs.url);
  });

  // The origin's two viewer places taken by a synthetic class: one
  // publisher and two viewers (lectern-load, from 127.0.0.1, which is in no
  // CIDR table: the node's own region, so the origin serves them).
  const run = load(['--url', origin.url, '--stream', 'class', '--viewers', '2', '--seconds', '14',
    '--bitrate', String(BITRATE)]);

  await t.test('when the origin is full the Frankfurt client goes to the nearest edge', async () => {
    const { elapsed } = await waitFor(async () => (await steeredTo(edgeAp, FRA)) === edgeUs.url,
      6000, 'Frankfurt to move to the us edge (nearer than ap)');
    console.log(`  the full origin was left out ${elapsed} ms into the class`);
    assert.equal(await steeredTo(origin, FRA), edgeUs.url);
  });

  await t.test('heartbeats carry the measured egress, CPU and sessions', async () => {
    // Seen from another node: what the origin's heartbeat said, once the
    // joins' GOP replays (a burst of up to 2 s of video each) are past.
    const want = 2 * BITRATE;
    const { value: o } = await waitFor(async () => {
      const n = selfIn(await edgeUs.cluster(), 'origin-eu');
      return n.load.egress_bps > 0.8 * want && n.load.egress_bps < 1.25 * want && n;
    }, 8000, `the origin to report an egress near ${want} bit/s`);
    console.log(`  origin egress ${(o.load.egress_bps / 1e6).toFixed(2)} Mbit/s for 2 viewers of ` +
      `${BITRATE / 1e6} Mbit/s; cpu ${o.load.cpu_permille}‰, busiest worker ${o.load.worker_cpu_permille}‰`);
    assert.ok(o.load.cpu_permille > 0, 'the process CPU is measured');
    assert.ok(o.load.worker_cpu_permille > 0, 'the worker CPU is measured');
    assert.ok(o.load.worker_cpu_permille >= o.load.cpu_permille / 2, 'one core of two, at least');
    assert.equal(o.load.sessions, 3, 'one publisher and two viewers');
    assert.equal(o.load.viewers, 2);
    assert.ok(o.joins.ok >= 2 && o.joins.p50_ms > 0 && o.joins.p95_ms >= o.joins.p50_ms,
      `join times reported: ${JSON.stringify(o.joins)}`);
    // The same egress in the origin's own /metrics, and the load ratio.
    const bytes = await origin.metric('lectern_egress_bytes_per_second');
    assert.ok(bytes * 8 > 0.7 * want && bytes * 8 < 1.5 * want, `egress gauge ${bytes} B/s`);
    assert.equal(await origin.metric('lectern_load_ratio', 'resource="viewers"'), 1);
  });

  await t.test('the audience per stream and region, cluster-wide', async () => {
    const v = await edgeAp.cluster();
    assert.equal(v.audience.viewers, 2);
    assert.deepEqual(v.audience.regions, { 'ap-southeast-2': 0, 'eu-central-1': 2, 'us-east-1': 0 });
    assert.deepEqual(v.audience.streams.class, { viewers: 2, regions: { 'eu-central-1': 2 } });
    assert.equal(v.streams.class[0].node, 'origin-eu');
    assert.equal(v.streams.class[0].viewers, 2);
    assert.equal(await edgeAp.metric('lectern_cluster_viewers', 'serving_region="eu-central-1"'), 2);
    assert.equal(await edgeAp.metric('lectern_cluster_stream_viewers', 'stream="class"'), 2);
    assert.equal(await edgeAp.metric('lectern_cluster_streams'), 1);
  });

  await t.test('the dashboard and the alerts ask only for series a live /metrics has', async () => {
    const text = await (await fetch(`${origin.url}/metrics`)).text();
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
      const m = /^([a-z_:]+)(?:\{(.*)\})? /.exec(l);
      const labels = {};
      for (const kv of (m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[kv[1]] = kv[2];
      return { name: m[1], labels };
    });
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
    const dash = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/lectern-dashboard.json'), 'utf8'));
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
    exprs.push(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
    const missing = new Set();
    let checked = 0;
    for (const e of exprs) {
      for (const m of e.matchAll(/\b((?:lectern|process)_[a-z_]+)(\{[^}]*\})?/g)) {
        // Labels the scrape adds (prometheus.yml relabelling) are not ours;
        // a regex matcher needs the label, not a value that may come later
        // (no 5xx has been answered yet).
        const matchers = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(=~|!=|=)\s*"([^"]*)"/g)]
          .filter(([, k]) => !['region', 'job', 'instance'].includes(k));
        const ok = samples.some((s) => (s.name === m[1] || s.name === `${m[1]}_bucket` ||
          s.name === m[1].replace(/_(bucket|sum|count)$/, '') || s.name === m[1]) &&
          matchers.every(([, k, op, v]) => (op === '=' ? s.labels[k] === v
            : op === '!=' ? s.labels[k] !== v : k in s.labels)));
        checked++;
        if (!ok) missing.add(m[0]);
      }
    }
    assert.deepEqual([...missing], [], 'series the dashboard or alerts use that /metrics lacks');
    // Labels the scrape sets (prometheus.yml relabel target_label) must not
    // be Lectern's own, or Prometheus renames ours to exported_<label>.
    const prom = readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    const scrapeLabels = ['job', ...[...prom.matchAll(/target_label: (\w+)/g)].map((x) => x[1])]
      .filter((l) => !l.startsWith('__'));
    const clash = samples.filter((s) => scrapeLabels.some((l) => l in s.labels)).map((s) => s.name);
    assert.deepEqual([...new Set(clash)], [], `series with a label the scrape sets (${scrapeLabels})`);
    assert.ok(checked > 20, `${checked} selectors checked`);
  });

  const r = await run;
  lib.assertEveryViewer(r, { viewers: 2, seconds: 14, bitrate: BITRATE, share: 0.85 });

  await t.test('join failures are counted by reason', async () => {
    const before = await edgeUs.metric('lectern_join_failures_total', 'reason="not_live"');
    const res = await fetch(`${edgeUs.url}/whep/nothing-here?steered=1`, {
      method: 'POST', body: 'v=0\r\n', headers: { 'Content-Type': 'application/sdp' } });
    assert.equal(res.status, 409);
    await res.text();
    assert.equal(await edgeUs.metric('lectern_join_failures_total', 'reason="not_live"'), before + 1);
    const bad = await fetch(`${edgeUs.url}/whep/class?steered=1`, {
      method: 'POST', body: 'v=0\r\n', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(bad.status, 415);
    await bad.text();
    assert.equal(await edgeUs.metric('lectern_join_failures_total', 'reason="bad_offer"'), 1);
  });

  await t.test('when the class ends the origin has room again and Frankfurt goes back', async () => {
    await waitFor(async () => (await steeredTo(edgeAp, FRA)) === origin.url, 6000,
      'Frankfurt back to the origin');
  });

  // lectern-ctl against any node: a class published at the origin and
  // watched at the ap edge (fed by a leg from the origin).
  const ctl = (...args) => {
    const r = spawnSync(path.join(lib.BUILD, 'ctl', 'lectern-ctl'), ['--url', edgeUs.url, ...args],
      { encoding: 'utf8', timeout: 20000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const second = load(['--url', origin.url, '--view-url', edgeAp.url, '--stream', 'class', '--viewers', '1',
    '--seconds', '12']).catch((e) => e);

  await t.test('lectern-ctl lists nodes and streams and follows a stream through the cascade', async () => {
    await waitFor(async () => (await edgeAp.cluster()).audience.streams.class?.regions?.['ap-southeast-2'] === 1,
      8000, 'the ap edge to report its viewer');
    await waitFor(async () => (await edgeUs.cluster()).audience.streams.class?.regions?.['ap-southeast-2'] === 1,
      3000, 'the us edge to hear of it');
    const nodes = ctl('nodes');
    assert.equal(nodes.code, 0, nodes.err);
    for (const id of ['origin-eu', 'edge-us*', 'edge-ap'])
      assert.match(nodes.out, new RegExp(`^${id.replace('*', '\\*')} +(origin|edge) `, 'm'), nodes.out);
    assert.match(nodes.out, /^edge-ap +edge +ap-southeast-2 +serving +1\/5000 /m, nodes.out);
    const streams = ctl('streams');
    assert.equal(streams.code, 0, streams.err);
    assert.match(streams.out, /^class +1 +origin-eu +ap-southeast-2 1, eu-central-1 0$/m, streams.out);
    const p = ctl('path', 'class');
    assert.equal(p.code, 0, p.err);
    console.log(p.out.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
    assert.match(p.out, /^origin-eu \(eu-central-1\) published here, 0 viewers$/m);
    assert.match(p.out, /^\+- edge-ap \(ap-southeast-2\) 1 viewer$/m);
    assert.equal(ctl('path', 'nothing').code, 1);
    assert.equal(ctl('path', '../x').code, 2, 'names are checked before any request');
  });

  await t.test('lectern-ctl drains and undrains a node with an admin token, and only with one', async () => {
    const denied = ctl('--token', 'wrong', 'drain', 'edge-ap');
    assert.equal(denied.code, 1);
    assert.match(denied.err, /401 a valid admin bearer token is required/);
    assert.equal(ctl('drain', 'edge-ap').code, 2, 'no token: a usage error');
    const d = ctl('--token-file', adminTokens, 'drain', 'edge-ap');
    assert.equal(d.code, 0, d.err);
    assert.equal((await fetch(`${edgeAp.url}/readyz`)).status, 503);
    await waitFor(async () => /draining/.test(ctl('nodes').out.split('\n').find((l) => l.startsWith('edge-ap'))),
      3000, 'the view to show edge-ap draining');
    const u = ctl('--token', 'fleet-admin', 'undrain', 'edge-ap');
    assert.equal(u.code, 0, u.err);
    assert.equal((await fetch(`${edgeAp.url}/readyz`)).status, 200);
  });

  await t.test('lectern-ctl ends a stream where it is published, and every edge ends it', async () => {
    const e = ctl('--token', 'fleet-admin', 'end', 'class');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /class: ended on origin-eu/);
    await waitFor(async () => !(await edgeAp.get('/v1/streams/class')).body.live, 3000,
      'the ap edge to end the stream');
    assert.equal((await origin.get('/v1/streams/class')).body.live, false);
    // Ending it at a node that only relays it is refused with where it comes from.
    const again = await fetch(`${edgeAp.url}/v1/streams/class`,
      { method: 'DELETE', headers: { Authorization: 'Bearer fleet-admin' } });
    assert.ok([404, 409].includes(again.status), `${again.status}`);
    await again.text();
  });
  // The second class's viewer at the ap edge played until lectern-ctl
  // ended the stream under it (before its measured window: the steps
  // above take a few seconds): its load ran, its viewer connected and got
  // video (join_ms: its first video packet), and none after the end.
  const r2 = await second;
  assert.ok(!(r2 instanceof Error), `the second load ran: ${r2}`);
  assert.equal(r2.per_viewer.length, 1);
  assert.equal(r2.never_connected, 0, JSON.stringify(r2.per_viewer));
  assert.ok(r2.per_viewer[0].join_ms >= 0, `the ap edge's viewer got video: ${JSON.stringify(r2.per_viewer)}`);
});

// lectern-ctl against a hostile or broken server on loopback: answers of
// the wrong shape, loops in a stream's path, escape sequences, a node URL
// that would take the admin token elsewhere, a server that trickles.
test('lectern-ctl survives what a hostile server answers', { timeout: 60000 }, async () => {
  const http = await import('node:http');
  let answer = '{}';
  let trickle = false;
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    if (trickle) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const t = setInterval(() => res.write(' '), 300);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(answer);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  // Not spawnSync: the server answers from this process's event loop.
  const { spawn } = await import('node:child_process');
  const ctl = (...args) => new Promise((resolve) => {
    const p = spawn(path.join(lib.BUILD, 'ctl', 'lectern-ctl'), ['--url', url, '--timeout', '2', ...args]);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 20000);
    p.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, out, err }); });
  });
  const shapes = [
    '{"nodes":"xxxx"}',
    '{"nodes":[],"audience":{"streams":[1,2,3]},"streams":"s"}',
    '{"nodes":[1,"a",null,{"id":5,"load":"x","capacity":[]}],"audience":{"streams":{"class":7,"x":{"regions":[1]}}},"streams":{"class":{"a":1}}}',
    '[]', 'not json', '{"nodes":[{"id":"\u001b]0;owned\u0007\u009b31m"}]}',
  ];
  try {
    for (const s of shapes) {
      answer = s;
      for (const cmd of [['nodes'], ['streams'], ['path', 'class'], ['cluster']]) {
        const r = await ctl(...cmd);
        assert.equal(r.signal, null, `${cmd} on ${s}: killed by ${r.signal}`);
        assert.ok([0, 1].includes(r.code), `${cmd} on ${s}: exit ${r.code} ${r.err}`);
        assert.ok(!/[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/.test(r.out + r.err), `${cmd}: no control bytes reach the terminal`);
      }
    }
    // A cascade that feeds itself in a ring: printed once each, and ends.
    const ring = Array.from({ length: 40 }, (_, i) => ({ node: `n${i}`, region: 'r', depth: 1, viewers: 1,
      source: `n${(i + 1) % 40}` }));
    answer = JSON.stringify({ nodes: [], streams: { class: [{ node: 'o', depth: 0, viewers: 0, source: null }, ...ring,
      ...Array.from({ length: 40 }, (_, i) => ({ node: 'x', depth: 1, source: 'x' }))] } });
    const p = await ctl('path', 'class');
    assert.equal(p.code, 0, p.err);
    assert.ok(p.out.split('\n').length < 100, `${p.out.split('\n').length} lines`);
    // A node URL elsewhere: the token is not sent there over plain http.
    answer = JSON.stringify({ nodes: [{ id: 'edge-x', http_url: 'http://198.51.100.9:8080' }] });
    seen.length = 0;
    const d = await ctl('--token', 'secret-admin-token', 'drain', 'edge-x');
    assert.equal(d.code, 1);
    assert.match(d.err, /not sending the admin token to http:\/\/198\.51\.100\.9:8080/);
    assert.ok(seen.every((l) => !l.includes('secret-admin-token')), seen.join('\n'));
    // A server that trickles a byte every 300 ms: the whole request has 2 s.
    trickle = true;
    const t0 = Date.now();
    const slow = await ctl('nodes');
    assert.equal(slow.code, 1);
    assert.match(slow.err, /timed out/);
    assert.ok(Date.now() - t0 < 5000, `gave up after ${Date.now() - t0} ms`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
