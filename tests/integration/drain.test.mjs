// SIGTERM drains a node with live sessions (README "Draining an edge"),
// with real processes: nats-server, an origin, an edge that pulls the
// stream; lectern-load publishes at the origin and plays at the edge.
//
//   - SIGTERM on the edge: /readyz turns 503 at once, the origin's view
//     shows the edge draining, new offers are not taken there; the
//     viewers already there keep getting video until node.drain_timeout
//     (3 s here), then the edge exits 0;
//   - the viewers leave before the timeout: the edge exits as soon as the
//     last session is gone, not at the timeout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { Node, NatsServer, waitFor, sleep, load, videoPps } from './lib.mjs';

const procs = [];
after(() => lib.teardown(procs));

async function cluster(drainTimeout) {
  const nats = await NatsServer.start();
  const origin = new Node('origin', 'origin-d', 'eu-central-1', nats.url, 'ice: {addresses: [127.0.0.1]}\n');
  const edge = new Node('edge', 'edge-d', 'us-east-1', nats.url, 'ice: {addresses: [127.0.0.1]}\n');
  edge.setDrainTimeout(drainTimeout);
  procs.push(nats, origin, edge);
  await origin.start();
  await edge.start();
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 8000, `${n.id} to see the cluster`);
  return { nats, origin, edge };
}

const exited = (node) => new Promise((r) => node.proc.once('exit', (code, sig) => r({ code: code ?? sig, at: Date.now() })));

test('SIGTERM: sessions keep their media until node.drain_timeout, then the node exits 0', async () => {
  const { nats, origin, edge } = await cluster(3);
  const run = load(['--url', origin.url, '--view-url', edge.url, '--stream', 'class', '--viewers', '3',
    '--seconds', '8']);
  await waitFor(async () => (await edge.get('/v1/streams/class')).body.viewers === 3, 10000, 'three viewers at the edge');
  await sleep(2500); // inside the measured window
  const gone = exited(edge);
  edge.proc.stopping = true;
  const term = Date.now();
  edge.proc.kill('SIGTERM');
  // At once: not ready, draining in its own answer and in the origin's view.
  await waitFor(async () => (await fetch(`${edge.url}/readyz`)).status === 503, 500, '/readyz to say 503');
  assert.equal((await edge.get('/v1/streams/class')).body.node_draining, true);
  await waitFor(async () => (await origin.cluster()).nodes.find((n) => n.id === 'edge-d')?.draining === true,
    1500, 'the origin to see the edge draining');
  // A new viewer is not taken by the draining edge.
  const offer = await fetch(`${edge.url}/whep/class`, { method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.ok(offer.status === 307 || offer.status === 503, `a draining node takes no offer (${offer.status})`);
  if (offer.status === 307) assert.doesNotMatch(offer.headers.get('location'), new RegExp(`:${edge.port}/`));
  const { code, at } = await gone;
  console.log(`# the edge exited ${at - term} ms after SIGTERM (drain_timeout 3 s), code ${code}`);
  assert.equal(code, 0);
  assert.ok(at - term >= 2900 && at - term < 4500, `it waited for node.drain_timeout (${at - term} ms)`);
  assert.match(edge.log, /draining: 3 session\(s\) keep playing/);
  assert.match(edge.log, /drain did not finish within 3 s/);
  const r = await run;
  assert.equal(r.per_viewer.length, 3);
  assert.equal(r.never_connected, 0, JSON.stringify(r.per_viewer));
  // Every viewer got video until the edge went away (and none after).
  const until = at - r.t0_unix_ms;
  const want = Math.floor(0.8 * videoPps() * (until / 1000));
  r.per_viewer.forEach((v, i) => {
    assert.ok(v.last_video_ms >= until - 300, `viewer ${i} played until the exit at ${until} ms: ${JSON.stringify(v)}`);
    assert.ok(v.video >= want, `viewer ${i}: ${v.video} video packets before the exit, wants >= ${want}`);
  });
  await origin.finish();
  await nats.stop();
});

test('SIGTERM: the node exits as soon as its last session leaves', async () => {
  const { nats, origin, edge } = await cluster(30);
  const run = load(['--url', origin.url, '--view-url', edge.url, '--stream', 'class', '--viewers', '2',
    '--seconds', '4']);
  await waitFor(async () => (await edge.get('/v1/streams/class')).body.viewers === 2, 10000, 'two viewers at the edge');
  const gone = exited(edge);
  edge.proc.stopping = true;
  edge.proc.kill('SIGTERM');
  const r = await run; // ends with DELETE on each session (the edge exits as they land)
  const left = Date.now();
  lib.assertEveryViewer(r, { viewers: 2, seconds: 4, what: 'viewers of a draining edge' });
  const { code, at } = await Promise.race([gone, sleep(5000).then(() => ({ code: 'still running', at: 0 }))]);
  console.log(`# the edge exited ${left - at} ms before lectern-load (whose DELETEs ended its sessions) finished`);
  assert.equal(code, 0);
  assert.ok(at - left < 1000, 'not at drain_timeout (30 s)');
  assert.match(edge.log, /drained: every session has left/);
  await origin.finish();
  await nats.stop();
});
