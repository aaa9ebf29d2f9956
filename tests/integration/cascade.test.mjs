// The cascade with real processes: nats-server, an origin (eu-central-1),
// edge A (us-east-1) and edge B (ap-southeast-2, relay.prefer: [edge-a], so
// it is fed by A), and a user-space impairment relay in front of every
// node's relay socket (their relay.public_addr), so every leg crosses it.
// lectern-load (bench/, our own WebRTC client) publishes to the origin and
// plays from the edges; each video packet carries its send time.
//
//   - B pulls from A, A from the origin (depth 2); every viewer at B gets
//     every packet, and the leg lingers after the last viewer, then closes;
//   - with 5% loss and 80 ms delay on every leg, the edges NACK upstream
//     and each viewer ends up with more than 99.5% of the packets;
//   - the teacher leaves: the BYE travels origin -> A -> B and ends the
//     stream and its viewers at B within 500 ms (silence would take 1 s
//     and try a failover first);
//   - A is killed: B re-sources from the origin; each of its viewers goes
//     less than 1.5 s without video (counted to the end of the run), on
//     the same sessions;
//   - prewarm: the region's edge holds the stream before any viewer asks,
//     and its first viewer plays over that leg without opening another.
import { test, after } from 'node:test';
import dgram from 'node:dgram';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { NatsServer, waitFor, sleep, load, assertEveryViewer } from './lib.mjs';

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

test('origin -> edge A -> edge B: pull, per-hop repair under loss, linger, BYE, failover', async () => {
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
  assertEveryViewer(atB, { viewers: 3, seconds: 4, what: 'viewers at B' });
  assert.equal(atB.video_lost, 0, 'a clean path loses nothing');
  assert.equal((await streamOn(b, 'class')).depth, 2, 'B is fed by A');
  assert.match(b.log, /asking edge-a for a leg .*preferred/);
  console.log(`# clean path, 2 hops: ${JSON.stringify(atB.latency_ms)} ms end to end`);

  // A forged RelayClose with the leg left out (leg_id 0, the protobuf
  // default) to the origin and to A, from a client that is not a node (an
  // unsigned envelope): it closes nothing (it used to end the class
  // everywhere, the teacher still publishing).  More forgeries:
  // attack.test.mjs.
  for (const n of [origin, a])
    await lib.publishRaw(nats.port, `lectern.v1.relay.${n.id}.close`, lib.envelope(lib.relayClose('class', 0, 'rogue'), 'rogue'));
  const afterForgery = await load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream',
    'class', '--viewers', '2', '--seconds', '3']);
  assertEveryViewer(afterForgery, { viewers: 2, seconds: 3, what: 'viewers at B after a forged RelayClose' });
  assert.equal((await origin.get('/v1/streams/class')).body.live, true, 'the origin still has the class');
  assert.doesNotMatch(origin.log + a.log, /stream class: leg .*closed \(the stream ended\)|no viewers left/);

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
  // Every viewer: repairs cross two lossy legs (a 320 ms round trip and
  // more), so the gap allowed is longer than on a clean path.
  assertEveryViewer(lossy, { viewers: 2, seconds: 6, share: 0.85, maxGapMs: 1000, what: 'lossy' });
  for (const [i, v] of lossy.per_viewer.entries())
    assert.ok(v.lost / v.video < 0.005, `viewer ${i}: per-hop repair leaves < 0.5% lost: ${JSON.stringify(v)}`);
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

  // 4. BYE down the chain: the teacher of 'bye' leaves while B (fed by A)
  // has viewers; the end reaches B through both legs at once.
  const pubBye = load(['--url', origin.url, '--view-url', a.url, '--stream', 'bye', '--viewers', '1',
    '--seconds', '5']);
  await waitFor(async () => (await streamOn(a, 'bye'))?.depth === 1, 8000, 'A to pull bye');
  const atBye = load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream', 'bye',
    '--viewers', '2', '--seconds', '8']).catch((e) => e);
  await waitFor(async () => (await b.get('/v1/streams/bye')).body.viewers === 2, 8000, 'B\'s viewers of bye');
  await pubBye; // its publisher's session is DELETEd as it exits
  const ended = Date.now();
  const { elapsed: byeMs } = await waitFor(async () => {
    const { body } = await b.get('/v1/streams');
    return !(await b.get('/v1/streams/bye')).body.live && body.sessions.length === 0;
  }, 3000, 'the end to reach B and end its viewers');
  console.log(`# BYE: the stream ended at B (2 legs down) ${Date.now() - ended} ms after the teacher left`);
  assert.ok(byeMs < 500, `through the legs, not by silence (${byeMs} ms)`);
  assert.match(a.log, /stream bye: leg from origin-eu closed \(the stream ended\)/);
  assert.match(b.log, /stream bye: leg from edge-a closed \(the stream ended\)/);
  assert.doesNotMatch(b.log, /bye.*re-sourcing|re-sourcing.*bye/);
  await atBye;

  // 5. Failover: A dies while it feeds B; B's viewers play on from the origin.
  const pub2 = load(['--url', origin.url, '--view-url', a.url, '--stream', 'lesson2', '--viewers', '1',
    '--seconds', '14']).catch(() => null); // its viewer at A dies with A
  await waitFor(async () => (await streamOn(a, 'lesson2'))?.depth === 1, 8000, 'A to pull lesson2');
  const watching = load(['--url', origin.url, '--view-url', b.url, '--view-only', '--stream', 'lesson2',
    '--viewers', '2', '--seconds', '7']);
  await sleep(4500); // 1.5 s of connect and settle, then 3 s measured
  await a.stop('SIGKILL');
  const failed = await watching;
  console.log(`# edge A killed under B: ${JSON.stringify(failed)}`);
  // Each viewer keeps its session and plays on: its longest gap, counted
  // to the end of the run (media that never came back fails), < 1.5 s.
  assertEveryViewer(failed, { viewers: 2, seconds: 7, share: 0.7, maxGapMs: 1500, what: 'after the kill' });
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
  // Its first viewer plays over that leg: no other leg is asked for.
  const legs = () => us.log.split('\n').filter((l) => /stream warm: asking .* for a leg/.test(l)).length;
  assert.equal(legs(), 1, 'the prewarm leg');
  const v = await load(['--url', origin.url, '--view-url', us.url, '--view-only', '--stream', 'warm',
    '--viewers', '1', '--seconds', '2']);
  console.log(`# the prewarmed edge's first viewer: first video ${v.max_join_ms} ms after its offer`);
  assertEveryViewer(v, { viewers: 1, seconds: 2, what: 'the prewarmed edge\'s viewer' });
  assert.equal(legs(), 1, 'no leg opened for the viewer');
  assert.ok(v.max_join_ms >= 0 && v.max_join_ms < 1000, `it plays at once (${v.max_join_ms} ms)`);
  await pub;
  await nats.stop();
  for (const n of [origin, us, ap]) n.imp.close();
});
