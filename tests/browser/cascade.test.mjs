// The cascade as people see it (issue 5), in a network namespace of its own
// (run.sh): nats-server, an origin (eu-central-1), edge A (us-east-1, fed by
// the origin) and edge B (ap-southeast-2, fed by A: relay.prefer), a
// user-space impairment relay in front of each node's relay socket.
// Chromium publishes to the origin (fake camera, VP8); Chromium viewers
// watch at A and at B through the normal viewer page.
//
//   - viewers at A and B decode continuously;
//   - 5% loss and 80 ms delay on every leg: decoding never stalls for 2 s
//     from the first lost packet on; the edges' upstream NACK counters
//     rise; once the edges have learned the repair time and asked the
//     players for that much buffer (8 s), freezeCount stays 0 for 10 s;
//   - a late joiner at B connects and decodes its first frame within
//     500 ms of its connection coming up (the GOP cache);
//   - edge A is killed: B re-sources from the origin, its viewers go less
//     than 2 s without a new frame (counted to the end of 6 s of sampling)
//     on the same PeerConnection.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../integration/lib.mjs';
import { NatsServer, waitFor, sleep } from '../integration/lib.mjs';
import { launch, measured } from './lib.mjs';

let browser;
const nodes = [];
after(async () => {
  await browser?.close().catch(() => {});
  await lib.teardown(nodes);
});

async function relayedNode(...args) {
  const n = await lib.relayedNode(...args);
  nodes.push(n);
  return n;
}

async function newPage() {
  const ctx = await browser.newContext(); // its own window: no background throttling
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|404/.test(m.text())) console.log(`  [page] ${m.text()}`);
  });
  return page;
}

// The viewer page's own PeerConnection, read directly (not the page's 1 s
// refresh).
const vstats = (page) => page.evaluate(async () => {
  const s = window.lectern.session;
  if (!s) return null;
  const { stats } = await import('/static/lectern.js');
  return stats(s.pc);
});

async function watch(node, n) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const p = await newPage();
    await p.goto(`${node.url}/watch/class`);
    pages.push(p);
  }
  for (const p of pages)
    await waitFor(async () => ((await vstats(p))?.framesDecoded || 0) > 0, 15000,
      `a viewer at ${node.id} to decode`);
  return pages;
}

test('Chromium through origin -> A -> B: loss, a late joiner, failover', { timeout: 240000 }, async () => {
  const nats = await NatsServer.start();
  const origin = await relayedNode('origin', 'origin-eu', 'eu-central-1', nats.url);
  const a = await relayedNode('edge', 'edge-a', 'us-east-1', nats.url);
  const b = await relayedNode('edge', 'edge-b', 'ap-southeast-2', nats.url, ', prefer: [edge-a]');
  for (const n of [origin, a, b])
    await waitFor(async () => (await n.ids()).length === 3, 8000, `${n.id} to see the cluster`);
  browser = await launch();

  const pub = await newPage();
  await pub.goto(`${origin.url}/publish?stream=class&codec=VP8`);
  await pub.evaluate(() => window.lectern.start());
  await waitFor(() => pub.evaluate(() => window.lectern.state === 'live'), 10000, 'the teacher to go live');

  // One viewer per edge: this machine has two cores for a publishing
  // Chromium, its viewers, three nodes and the impairment relays.
  const atA = await watch(a, 1);
  // B pulls from A (relay.prefer) once B's view shows A holding the stream.
  await waitFor(async () => (await b.cluster()).streams.class?.some((h) => h.node === 'edge-a'), 3000,
    'B to see A hold the stream');
  const atB = await watch(b, 1);
  const nodeOf = (p) => p.evaluate(() => window.lectern.node);
  assert.equal(await nodeOf(atA[0]), a.url, 'A serves its own viewers');
  assert.equal(await nodeOf(atB[0]), b.url, 'B serves its own viewers');
  const chain = async () => JSON.stringify((await b.cluster()).streams.class.map((h) => [h.node, h.depth]));
  await waitFor(async () => (await chain()) === '[["origin-eu",0],["edge-a",1],["edge-b",2]]', 3000,
    'the chain origin -> A -> B in the cluster view').catch(async (e) => {
    console.log(await chain(), b.log.split('\n').filter((l) => /cascade|relay/.test(l)).join('\n'));
    throw e;
  });

  // 5% loss and 80 ms each way on every leg.
  for (const n of [origin, a, b]) n.imp.set({ loss: 0.05, delayMs: 80 });
  const viewers = [...atA, ...atB];
  // The first repairs teach each edge how long a repair takes; it asks its
  // viewers' players for that much buffer (the playout-delay extension),
  // which it raises by 100 ms a second.  Those 8 s: decoding goes on (no
  // 2 s stall), freezes are reported.  Then 10 s measured.
  const warm0 = await Promise.all(viewers.map(vstats));
  let warm = warm0;
  for (let s = 0; s < 4; s++) {
    await sleep(2000);
    const now = await Promise.all(viewers.map(vstats));
    now.forEach((x, i) => measured(x.framesDecoded > warm[i].framesDecoded, `viewer ${i} stalled while the edges learn`));
    warm = now;
  }
  console.log(`  the first 8 s of loss: freezeCount ${warm.map((x, i) => x.freezeCount - warm0[i].freezeCount).join(',')}`);
  const nack0 = [await a.metric('lectern_rtcp_nack_total', 'direction="out"'),
    await b.metric('lectern_rtcp_nack_total', 'direction="out"')];
  let last = await Promise.all(viewers.map(vstats));
  const start = last;
  for (let s = 0; s < 5; s++) {
    await sleep(2000);
    const now = await Promise.all(viewers.map(vstats));
    now.forEach((x, i) => measured(x.framesDecoded > last[i].framesDecoded, `viewer ${i} stalled`));
    last = now;
  }
  const first = await Promise.all(viewers.map(vstats));
  const nack = [(await a.metric('lectern_rtcp_nack_total', 'direction="out"')) - nack0[0],
    (await b.metric('lectern_rtcp_nack_total', 'direction="out"')) - nack0[1]];
  const freezes = first.map((x, i) => x.freezeCount - start[i].freezeCount);
  console.log(`  5% loss + 80 ms per leg, 10 s: freezeCount ${freezes.join(',')}; ` +
    `NACKs upstream: A ${nack[0]}, B ${nack[1]}; imp ${JSON.stringify(b.imp.stats)}`);
  assert.ok(nack[0] > 0 && nack[1] > 0, 'both edges NACK their upstream leg');
  if (!freezes.every((f) => f === 0))
    console.log(b.log.split('\n').filter((l) => /upstream lost|keyframe|relay/.test(l)).join('\n'));
  measured(freezes.every((f) => f === 0), `no freeze: ${freezes}`);
  last.forEach((x, i) => assert.ok(x.framesDecoded > warm0[i].framesDecoded + 100,
    `viewer ${i} decoded ${x.framesDecoded - warm0[i].framesDecoded} frames in 18 s of loss`));
  for (const n of [origin, a, b]) n.imp.set({ loss: 0, delayMs: 0 });

  // A late joiner at B: its first frame comes from B's GOP cache.
  const late = await newPage();
  await late.goto(`${b.url}/healthz`); // any page of B's: same origin for fetch
  const join = await late.evaluate(async () => {
    const { play, stats } = await import('/static/lectern.js');
    const t0 = performance.now();
    const s = await play({ stream: 'class' });
    const answered = performance.now();
    while (s.pc.connectionState !== 'connected' && performance.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 5));
    const connected = performance.now();
    const up = s.pc.connectionState === 'connected';
    while ((await stats(s.pc)).framesDecoded === 0 && performance.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 5));
    const decoded = performance.now();
    const frames = (await stats(s.pc)).framesDecoded;
    await s.stop();
    return { answered: answered - t0, connected: connected - t0, decoded: decoded - t0,
      afterConnected: decoded - connected, up, frames };
  });
  // A wait that ran out is a failure, not a fast join.
  assert.ok(join.up, `the late joiner connected within 5 s: ${JSON.stringify(join)}`);
  assert.ok(join.frames > 0, `the late joiner decoded within 5 s: ${JSON.stringify(join)}`);
  console.log(`  late joiner at B: answer ${join.answered.toFixed(0)} ms, connected ` +
    `${join.connected.toFixed(0)} ms, first frame ${join.decoded.toFixed(0)} ms ` +
    `(${join.afterConnected.toFixed(0)} ms after connecting)`);
  assert.ok(join.afterConnected < 500, `first frame ${join.afterConnected} ms after connecting`);
  await late.context().close();

  // Kill A under B: B's viewers play again, from the origin, within 2 s.
  for (const p of atA) await p.context().close();
  // Each of B's players samples its decoder every 20 ms from just before
  // the kill: the longest stretch without a new frame, and when decoding
  // came back after it, from the kill.
  const sample = (p) => p.evaluate(async () => {
    const { stats } = await import('/static/lectern.js');
    const pc = window.lectern.session.pc;
    const t0 = performance.now();
    const out = [];
    while (performance.now() - t0 < 6000) {
      out.push([performance.now() - t0, (await stats(pc)).framesDecoded]);
      await new Promise((r) => setTimeout(r, 20));
    }
    return out;
  });
  const samplers = atB.map(sample);
  await sleep(500);
  await a.stop('SIGKILL');
  const killedAt = 500;
  const resumed = (await Promise.all(samplers)).map((series) => {
    let lastChange = series[0][0], gap = 0, back = 0;
    for (let i = 1; i < series.length; i++) {
      if (series[i][1] === series[i - 1][1]) continue;
      if (series[i][0] - lastChange > gap) { gap = series[i][0] - lastChange; back = series[i][0]; }
      lastChange = series[i][0];
    }
    // A stall that lasts to the end of the sampling is the longest gap of
    // all: decoding that never came back fails.
    const end = series[series.length - 1][0];
    if (end - lastChange > gap) { gap = end - lastChange; back = Infinity; }
    return { gap: Math.round(gap), back: Math.round(back - killedAt),
      frames: series[series.length - 1][1] - series[0][1] };
  });
  console.log(`  edge A killed: B's viewers' longest freeze ${resumed.map((r) => r.gap).join(', ')} ms, ` +
    `decoding again ${resumed.map((r) => r.back).join(', ')} ms after the kill`);
  for (const r of resumed) assert.ok(r.back < 2000 && r.gap < 2000, `resumed: ${JSON.stringify(r)}`);
  for (const p of atB) {
    assert.equal(await p.evaluate(() => window.lectern.sessions), 1, 'the same session');
    assert.equal(await p.evaluate(() => window.lectern.session.pc.connectionState), 'connected');
  }
  assert.match(b.log, /failover: leg from origin-eu/);
  await pub.evaluate(() => window.lectern.stop());
  await nats.stop();
});
