// Viewer steering with real processes and a real nats-server (issue 6):
// WHEP offers get a 307 to the nearest healthy edge, decided from
// X-Forwarded-For (only from trusted proxies) through geo.cidr_regions, or
// from a ?region= hint; drained edges get no viewers; /v1/steer explains.
// The client addresses below are documentation ranges (RFC 5737) that
// only ever appear in headers: no traffic goes anywhere but loopback.
import * as lib from './lib.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsServer, Node, waitFor } from './lib.mjs';

const all = [];
after(() => lib.teardown(all));

const US = '198.51.100.7';
const AP = '203.0.113.9';
const dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-steer-'));
const adminTokens = path.join(dir, 'admin-tokens');
writeFileSync(adminTokens, 'steer-admin\n');
const extra = `geo:
  cidr_regions: {"198.51.100.0/24": us-east-1, "203.0.113.0/24": ap-southeast-2}
auth: {admin_tokens_file: ${adminTokens}}
`;
const http = 'trusted_proxies: [127.0.0.0/8]';

// A GET with header lines exactly as given (fetch would merge repeats).
async function rawGet(port, path, lines) {
  const net = await import('node:net');
  const sock = net.connect(port, '127.0.0.1');
  let data = '';
  sock.on('data', (d) => { data += d.toString(); });
  const done = new Promise((r) => sock.on('close', r));
  sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${lines.join('\r\n')}\r\n\r\n`);
  await done;
  return data.slice(data.indexOf('\r\n\r\n') + 4);
}

// POSTs a WHEP offer (its body does not matter for steering) without
// following redirects.
async function whep(node, query = '', headers = {}) {
  const r = await fetch(`${node.url}/whep/lecture${query}`, {
    method: 'POST', redirect: 'manual', body: 'v=0\r\n',
    headers: { 'Content-Type': 'application/sdp', ...headers },
  });
  const body = await r.text();
  return { status: r.status, location: r.headers.get('location'), body };
}

// Served where it landed: the offer reached this node's own WHEP path,
// which answers that the stream is not live here yet (nobody publishes in
// this test), not a 307 nor any other error.
function servedLocally(r, what) {
  assert.equal(r.status, 409, `${what}: served here (${r.status} ${r.body})`);
  assert.match(r.body, /stream lecture is not live/, what);
}

test('viewers are steered to the nearest healthy edge', { timeout: 90000 }, async (t) => {
  const nats = await NatsServer.start();
  all.push(nats);
  const origin = new Node('origin', 'origin-eu', 'eu-central-1', nats.url, extra, http);
  const edgeUs = new Node('edge', 'edge-us', 'us-east-1', nats.url, extra, http);
  const edgeAp = new Node('edge', 'edge-ap', 'ap-southeast-2', nats.url, extra, http);
  const nodes = [origin, edgeUs, edgeAp];
  all.push(...nodes);
  await Promise.all(nodes.map((n) => n.start()));
  for (const n of nodes)
    await waitFor(async () => (await n.ids()).length === 3, 5000, `${n.id} to see the cluster`);

  await t.test('a viewer behind a trusted proxy goes to its region\'s edge with a 307', async () => {
    for (const n of nodes) {
      const r = await whep(n, '', { 'X-Forwarded-For': US });
      if (n === edgeUs) {
        servedLocally(r, 'the us edge serves a us viewer itself');
        continue;
      }
      assert.equal(r.status, 307, `${n.id} redirects`);
      assert.equal(r.location, `${edgeUs.url}/whep/lecture?steered=1`);
    }
    const r = await whep(origin, '', { 'X-Forwarded-For': `${AP}, 127.0.0.1` });
    assert.equal(r.location, `${edgeAp.url}/whep/lecture?steered=1`, 'rightmost untrusted hop');
  });

  await t.test('a steered request is served where it lands', async () => {
    const r = await whep(edgeUs, '?steered=1', { 'X-Forwarded-For': AP });
    servedLocally(r, 'a steered request');
  });

  await t.test('a region hint wins over the address', async () => {
    const r = await whep(origin, '?region=ap-southeast-2', { 'X-Forwarded-For': US });
    assert.equal(r.location, `${edgeAp.url}/whep/lecture?steered=1`);
  });

  await t.test('a bearer token travels in the redirect, escaped', async () => {
    const r = await whep(origin, '', { 'X-Forwarded-For': US, Authorization: 'Bearer a/b+c=' });
    assert.equal(r.location, `${edgeUs.url}/whep/lecture?steered=1&token=a%2Fb%2Bc%3D`);
  });

  await t.test('a forged or malformed X-Forwarded-For is not believed', async () => {
    // Garbage in the chain: only the connection (127.0.0.1, unlocated)
    // counts, so the viewer is taken to be in the node's own region.
    const r = await whep(edgeAp, '', { 'X-Forwarded-For': `${US}, not-an-ip` });
    servedLocally(r, 'a garbage chain');
    const s = await fetch(`${edgeAp.url}/v1/steer`, { headers: { 'X-Forwarded-For': 'x'.repeat(5000) } });
    assert.equal(s.status, 200);
    assert.equal((await s.json()).client.ip, '127.0.0.1');
    // A client that pads the header with addresses of its choosing: the
    // proxy's entry on the right still wins, however long the header.
    const padded = await fetch(`${edgeAp.url}/v1/steer`, {
      headers: { 'X-Forwarded-For': `${'192.0.2.1, '.repeat(400)}${US}` } });
    assert.equal((await padded.json()).client.ip, US);
    // Proxies that append as a second header line: the last line counts.
    const two = await rawGet(edgeAp.port, '/v1/steer',
      [`X-Forwarded-For: ${AP}`, `X-Forwarded-For: ${US}`]);
    assert.equal(JSON.parse(two).client.ip, US);
  });

  await t.test('/v1/steer shows the ranking and why', async () => {
    const r = await fetch(`${origin.url}/v1/steer?stream=lecture`, { headers: { 'X-Forwarded-For': US } });
    const j = await r.json();
    assert.equal(j.client.ip, US);
    assert.equal(j.client.region, 'us-east-1');
    assert.equal(j.client.located_by, 'cidr');
    assert.deepEqual(j.ranked.map((x) => x.node), ['edge-us', 'edge-ap'], 'edges only, nearest first');
    assert.match(j.ranked[0].reason, /^us-east-1: ~\d+ ms/);
    assert.equal(j.ranked[0].whep_url, `${edgeUs.url}/whep/lecture`);
  });

  await t.test('a drained edge gets no new viewers, and is back when undrained', async () => {
    const auth = { Authorization: 'Bearer steer-admin' };
    const d = await fetch(`${edgeUs.url}/v1/admin/drain`, { method: 'POST', headers: auth });
    assert.equal(d.status, 200);
    const { elapsed } = await waitFor(async () => (await whep(origin, '', { 'X-Forwarded-For': US }))
      .location === `${edgeAp.url}/whep/lecture?steered=1`, 3000, 'the us viewer to go elsewhere');
    console.log(`  steering left the drained edge out after ${elapsed} ms`);
    const u = await fetch(`${edgeUs.url}/v1/admin/drain`, { method: 'DELETE', headers: auth });
    assert.equal(u.status, 200);
    await waitFor(async () => (await whep(origin, '', { 'X-Forwarded-For': US }))
      .location === `${edgeUs.url}/whep/lecture?steered=1`, 3000, 'the us edge to be back');
  });

  await t.test('a dead edge is left out once it drops from the view', async () => {
    await edgeAp.stop('SIGKILL');
    await waitFor(async () => (await whep(origin, '?region=ap-southeast-2')).location ===
      `${edgeUs.url}/whep/lecture?steered=1`, 5000, 'ap viewers to go to the next edge');
  });

  await t.test('decisions are counted in /metrics', async () => {
    const text = await (await fetch(`${origin.url}/metrics`)).text();
    const m = /lectern_steer_decisions_total\{result="redirect"\} (\d+)/.exec(text);
    assert.ok(m && Number(m[1]) >= 5, 'redirects counted');
  });
});
