// A stream's viewers over several worker threads (issue 3: "fan-out across
// worker threads"), with real processes: lectern-load (bench/, our own
// WebRTC client) publishes and plays; the node runs two workers.
//
//   - on an origin, a class of 30 viewers ends up on both workers (the home
//     feeds a shard through a pipe), evenly (the two differ by at most one
//     viewer), and every viewer gets every packet without a gap;
//   - the shard closes 10 s (+- 0.5 s) after its last viewer while the
//     stream goes on, and opens again for the next viewers;
//   - on an edge, the shard hangs off the room the relay leg feeds, and
//     every viewer there gets the video too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { Node, NatsServer, waitFor, sleep, load, assertEveryViewer } from './lib.mjs';

const procs = [];
after(() => lib.teardown(procs));

const TWO = 'workers: 2\nworker_spread: 2\n';

async function workersOf(node, stream) {
  const { body } = await node.get('/v1/streams');
  return body.streams.find((s) => s.stream === stream)?.workers || [];
}

test('one node, two workers: a class spreads over both, the shard closes when idle', async () => {
  const origin = new Node('origin', 'origin-shards', 'eu-central-1', null,
    TWO + 'ice: {addresses: [127.0.0.1]}\n');
  procs.push(origin);
  await origin.start();
  // The teacher (and one viewer) for the whole test.
  // 300 kbps: the placement is what counts here, and CI runs tests side by side.
  const teacher = load(['--url', origin.url, '--stream', 'class', '--viewers', '1', '--seconds', '30',
    '--bitrate', '300000']);
  await waitFor(async () => (await origin.get('/v1/streams/class')).body.viewers === 1, 8000,
    'the stream and its first viewer (at home: one worker carries it so far)');

  const class1 = load(['--url', origin.url, '--view-only', '--stream', 'class', '--viewers', '30',
    '--seconds', '6']);
  await sleep(4000);
  const spread = await workersOf(origin, 'class');
  console.log(`# 31 viewers over the workers: ${JSON.stringify(spread)}`);
  assert.equal(spread.length, 2, 'both workers serve the stream');
  assert.equal(await origin.metric('lectern_stream_shards'), 1);
  assert.ok((await origin.metric('lectern_worker_pipe_packets_total')) > 100, 'the pipe carries media');
  assert.equal(spread[0].viewers + spread[1].viewers, 31);
  assert.ok(Math.abs(spread[0].viewers - spread[1].viewers) <= 1, `an even spread: ${JSON.stringify(spread)}`);
  const r1 = await class1;
  console.log(`# ${JSON.stringify({ ...r1, per_viewer: undefined })}`);
  assertEveryViewer(r1, { viewers: 30, seconds: 6, bitrate: 300000, what: 'class 1' });
  assert.equal(r1.video_lost, 0, 'nothing lost between the workers');
  assert.equal(await origin.metric('lectern_worker_pipe_dropped_total'), 0);

  // The class left (lectern-load DELETEs its sessions): the shard closes
  // after its linger, while the teacher's one viewer stays at home.
  const t0 = Date.now();
  await waitFor(async () => (await workersOf(origin, 'class')).length === 1, 15000, 'the shard to close')
    .catch(async (e) => {
      console.log(JSON.stringify((await origin.get('/v1/streams')).body));
      console.log(origin.log.split('\n').filter((l) => /shard|spread|pipe/.test(l)).join('\n'));
      throw e;
    });
  const closed = Date.now() - t0;
  console.log(`# the idle shard closed ${closed} ms after the class left`);
  assert.ok(closed >= 9500 && closed <= 11500, `10 s after its last viewer (${closed} ms)`);

  // The next class spreads again.
  const class2 = load(['--url', origin.url, '--view-only', '--stream', 'class', '--viewers', '8',
    '--seconds', '3']);
  await sleep(2000);
  assert.equal((await workersOf(origin, 'class')).length, 2, 'the shard opens again');
  const r2 = await class2;
  assertEveryViewer(r2, { viewers: 8, seconds: 3, bitrate: 300000, what: 'class 2' });
  assert.equal(r2.video_lost, 0);
  await teacher;
  // The teacher left: no session on either worker.
  await waitFor(async () => (await origin.get('/v1/streams')).body.sessions.length === 0, 8000,
    'no sessions');
});

test('an edge with two workers: shards hang off the room its relay leg feeds', async () => {
  const nats = await NatsServer.start();
  procs.push(nats);
  const origin = await lib.relayedNode('origin', 'origin-s', 'eu-central-1', nats.url);
  const edge = await lib.relayedNode('edge', 'edge-s', 'us-east-1', nats.url, '', TWO);
  procs.push(origin, edge);
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 8000, `${n.id} to see the cluster`);
  const run = load(['--url', origin.url, '--view-url', edge.url, '--stream', 'class',
    '--viewers', '12', '--seconds', '6']);
  await waitFor(async () => (await workersOf(edge, 'class')).length === 2, 10000,
    'the edge\'s viewers on both workers');
  const r = await run;
  console.log(`# 12 viewers at the edge: ${JSON.stringify({ ...r, per_viewer: undefined })}`);
  assertEveryViewer(r, { viewers: 12, seconds: 6, what: 'the edge\'s viewers' });
  assert.equal(r.video_lost, 0);
  assert.match(edge.log, /viewers spread to worker/);
});
