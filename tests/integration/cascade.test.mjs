// The cascade with real processes: nats-server, an origin (eu-central-1),
// edge A (us-east-1) and edge B (ap-southeast-2, relay.prefer: [edge-a], so
// it is fed by A), and a user-space impairment relay in front of every
// node's relay socket (their relay.public_addr), so every leg crosses it.
// lectern-load (bench/, our own WebRTC client) publishes to the origin and
// plays from the edges; each video packet carries its send time.
//
//   - B pulls from A, A from the origin (depth 2); viewers at both get the
//     stream, and the leg lingers after the last viewer, then closes;
//   - with 5% loss and 80 ms delay on every leg, the edges NACK upstream
//     and the viewers end up with (nearly) every packet;
//   - A is killed: B re-sources from the origin; its viewers' longest gap
//     stays under 2 s, on the same sessions;
//   - a RelayOpen that asks too deep, or for a stream not held, is refused.
import { test, after } from 'node:test';
import dgram from 'node:dgram';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { NatsServer, waitFor, sleep, load } from './lib.mjs';

const procs = [];
after(() => lib.teardown(procs));

// A node whose legs arrive through an impairment relay.
// Legs linger 3 s here (30 s by default).
async function relayedNode(role, id, region, natsUrl, relayExtra = '') {
  const n = await lib.relayedNode(role, id, region, natsUrl, `, linger: 3s${relayExtra}`);
  procs.push(n);
  return n;
}

async function streamOn(node, stream) {
  const { body } = await node.get('/v1/cluster');
  const me = body.nodes.find((n) => n.id === node.id);
  return me?.streams?.find((s) => s.stream === stream);
}

test('origin -> edge A -> edge B: pull, per-hop repair under loss, linger, failover', async () => {
  const nats = await NatsServer.start();
  procs.push(nats);
  const origin = await relayedNode('origin', 'origin-eu', 'eu-central-1', nats.url);
  const a = await relayedNode('edge', 'edge-a', 'us-east-1', nats.url);
  const b = await relayedNode('edge', 'edge-b', 'ap-southeast-2', nats.url, ', prefer: [edge-a]');
  for (const n of [origin, a, b])
    await waitFor(async () => (await n.ids()).length === 3, 8000, `${n.id} to see the cluster`);
  // Measured RTTs first (pings every 2 s), so the choice is not a guess.
  await sleep(2500);

  // 1. Clean legs: the publisher at the origin; viewers at A for 16 s.
  const pub = load(['--url', origin.url, '--view-url', a.url, '--stream', 'class', '--viewers', '2',
    '--seconds', '30']);
  await waitFor(async () => (await streamOn(a, 'class'))?.depth === 1, 8000, 'A to pull from the origin');
  // Viewers at B: B is fed by A (relay.prefer), depth 2.
  const atB = await load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream', 'class',
    '--viewers', '3', '--seconds', '4']);
  assert.equal(atB.connected, 3);
  assert.ok(atB.packets_per_s > 3 * 100, `B's viewers get media: ${JSON.stringify(atB)}`);
  assert.equal(atB.video_lost, 0, 'a clean path loses nothing');
  assert.equal((await streamOn(b, 'class')).depth, 2, 'B is fed by A');
  assert.match(b.log, /asking edge-a for a leg .*preferred/);
  console.log(`# clean path, 2 hops: ${JSON.stringify(atB.latency_ms)} ms end to end`);

  // Hostile datagrams at B's relay socket: empty, short, oversized, unknown
  // tags, and B's own tag range with garbage (fails SRTP): dropped, counted.
  const junk = dgram.createSocket('udp4');
  const real = b.imp.target.port;
  for (let i = 0; i < 300; i++) {
    const len = [0, 3, 15, 40, 1200, 1700][i % 6];
    const buf = Buffer.alloc(len, i & 0xff);
    if (len >= 8 && i % 2) buf[0] = 0; // worker 0: a real worker, an unknown leg
    await new Promise((r) => junk.send(buf, real, '127.0.0.1', r));
  }
  junk.close();
  await sleep(300);
  assert.ok((await b.metric('lectern_relay_datagrams_dropped_total')) >= 150, 'junk is counted');

  // 2. Loss and delay on every leg (both directions).
  for (const n of [origin, a, b]) n.imp.set({ loss: 0.05, delayMs: 80 });
  const nackB0 = await b.metric('lectern_rtcp_nack_total', 'direction="out"');
  const nackA0 = await a.metric('lectern_rtcp_nack_total', 'direction="out"');
  const lossy = await load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream',
    'class', '--viewers', '2', '--seconds', '6']);
  const nackB = (await b.metric('lectern_rtcp_nack_total', 'direction="out"')) - nackB0;
  const nackA = (await a.metric('lectern_rtcp_nack_total', 'direction="out"')) - nackA0;
  console.log(`# 5% loss + 80 ms per leg: ${JSON.stringify(lossy)}; NACKs up: A ${nackA}, B ${nackB}`);
  assert.ok(nackA > 0 && nackB > 0, 'both edges NACK their upstream leg');
  assert.ok(lossy.video_lost / lossy.video_expected < 0.005,
    `per-hop repair leaves < 0.5% lost (was ${lossy.video_lost}/${lossy.video_expected})`);
  assert.ok(lossy.latency_ms.p50 >= 160, 'two 80 ms legs');
  for (const n of [origin, a, b]) n.imp.set({ loss: 0, delayMs: 0 });

  // 3. Linger: B's viewers are gone (DELETE); its leg closes after
  // relay.linger (3 s) while the stream goes on at A.
  const gone = Date.now();
  await waitFor(async () => !(await streamOn(b, 'class')), 12000, 'B to let its leg go');
  assert.match(b.log, /closing the leg from edge-a \(no viewers for relay.linger\)/);
  assert.ok(Date.now() - gone >= 2500, 'not before relay.linger');
  assert.ok((await streamOn(a, 'class'))?.depth === 1, 'A still holds it');
  const { body: streams } = await b.get('/v1/streams');
  assert.equal(streams.sessions.length, 0);
  await pub;

  // 4. Failover: A dies while it feeds B; B's viewers play on from the origin.
  const pub2 = load(['--url', origin.url, '--view-url', a.url, '--stream', 'lesson2', '--viewers', '1',
    '--seconds', '14']).catch(() => null); // its viewer at A dies with A
  await waitFor(async () => (await streamOn(a, 'lesson2'))?.depth === 1, 8000, 'A to pull lesson2');
  const watching = load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream', 'lesson2',
    '--viewers', '2', '--seconds', '7']);
  await sleep(4500); // 1.5 s of connect and settle, then 3 s measured
  await a.stop('SIGKILL');
  const failed = await watching;
  console.log(`# edge A killed under B: ${JSON.stringify(failed)}`);
  assert.equal(failed.connected, 2, 'the viewers keep their sessions');
  assert.ok(failed.max_gap_ms < 2000, `B's viewers play again within 2 s (gap ${failed.max_gap_ms} ms)`);
  assert.match(b.log, /re-sourcing/);
  assert.match(b.log, /failover: leg from origin-eu/);
  assert.equal((await streamOn(b, 'lesson2')).depth, 1);
  await pub2;
  await nats.stop();
  for (const n of [origin, b]) n.imp.close();
  a.imp.close();
});

test('relay.prewarm: the region\'s edge pulls the stream when the teacher starts, and keeps it', async () => {
  const nats = await NatsServer.start();
  procs.push(nats);
  const origin = await relayedNode('origin', 'origin-pw', 'eu-central-1', nats.url,
    ', prewarm: [us-east-1]');
  const us = await relayedNode('edge', 'edge-us-pw', 'us-east-1', nats.url);
  const ap = await relayedNode('edge', 'edge-ap-pw', 'ap-southeast-2', nats.url);
  for (const n of [origin, us, ap])
    await waitFor(async () => (await n.ids()).length === 3, 8000, `${n.id} to see the cluster`);
  const t0 = Date.now();
  // lectern-load always brings a viewer: it watches at the ap edge (not prewarmed).
  const pub = load(['--url', origin.url, '--view-url', ap.url, '--stream', 'warm', '--viewers', '1',
    '--seconds', '9']);
  const { elapsed } = await waitFor(async () => (await streamOn(us, 'warm'))?.depth === 1, 8000,
    'the us-east-1 edge to prewarm').catch((e) => {
    for (const n of [origin, us]) console.log(`# ${n.id}:\n${n.log.split('\n').slice(-40).map((l) => `#   ${l}`).join('\n')}`);
    throw e;
  });
  console.log(`# prewarmed ${Date.now() - t0} ms after the publisher started (${elapsed} ms waiting)`);
  assert.match(us.log, /prewarming \(relay.prewarm on origin-pw\)/);
  assert.equal((await us.get('/v1/streams')).body.sessions.length, 0, 'no viewer asked for it');
  await sleep(4500); // past relay.linger (3 s): a prewarmed leg stays while the stream is live
  assert.equal((await streamOn(us, 'warm'))?.depth, 1);
  assert.doesNotMatch(ap.log, /prewarming/, 'a region not listed is not prewarmed');
  // Its first viewer plays at once: the leg is there.
  const v = await load(['--url', origin.url, '--view-url', us.url, '--view-only', '--stream', 'warm',
    '--viewers', '1', '--seconds', '1']);
  assert.ok(v.packets > 100);
  await pub;
  await nats.stop();
  for (const n of [origin, us, ap]) n.imp.close();
});
