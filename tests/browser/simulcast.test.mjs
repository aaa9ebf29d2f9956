// Simulcast as people see it (issue 17), in a network namespace of its own
// (run.sh): nats-server, an origin (eu-central-1) and an edge (us-east-1)
// fed over a relay leg.  Chromium publishes 720p VP8 in three layers from
// the teacher page (its default); Chromium students watch through the
// viewer page:
//   - the origin receives three layers, ranked by what they carry;
//   - at the origin, a student who picked "low" decodes the small picture
//     and one on "auto" the full one; at the edge, the same: every layer
//     crossed the leg;
//   - the "low" student switches to "high" from the page's menu: the
//     picture grows within 3 s on the same PeerConnection, with no freeze
//     reported after the switch; the session says which layer it gets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../integration/lib.mjs';
import { NatsServer, waitFor, sleep } from '../integration/lib.mjs';
import { launch, measured, sanitized } from './lib.mjs';

let browser, nats;
const nodes = [];
after(async () => {
  await browser?.close().catch(() => {});
  await lib.teardown([...nodes, ...(nats ? [nats] : [])]);
});

async function newPage() {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|404/.test(m.text())) console.log(`  [page] ${m.text()}`);
  });
  return page;
}

const vstats = (page) => page.evaluate(async () => {
  const s = window.lectern.session;
  if (!s) return null;
  const { stats } = await import('/static/lectern.js');
  return stats(s.pc);
});
const vsession = (page) => page.evaluate(async () => {
  const s = window.lectern.session;
  if (!s) return null;
  const { session } = await import('/static/lectern.js');
  return session(s.location);
});

async function watch(node, quality) {
  const p = await newPage();
  await p.goto(`${node.url}/watch/class?quality=${quality}`);
  await waitFor(async () => ((await vstats(p))?.width || 0) > 0, 15000, `a ${quality} viewer at ${node.id} to decode`);
  return p;
}

// Waits until the page decodes a picture of width in [lo, hi].
async function widthIn(page, lo, hi, ms, what) {
  let w = 0;
  await waitFor(async () => {
    w = (await vstats(page))?.width || 0;
    return w >= lo && w <= hi;
  }, ms, what).catch((e) => {
    e.message += ` (width ${w})`;
    throw e;
  });
  return w;
}

test('Chromium simulcast: a layer per student, at the origin and over a leg', { timeout: 240000 }, async () => {
  nats = await NatsServer.start();
  const origin = await lib.relayedNode('origin', 'origin-eu', 'eu-central-1', nats.url);
  nodes.push(origin);
  const edge = await lib.relayedNode('edge', 'edge-us', 'us-east-1', nats.url);
  nodes.push(edge);
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 8000, `${n.id} to see the cluster`);
  browser = await launch();

  const pub = await newPage();
  await pub.goto(`${origin.url}/publish?stream=class&codec=VP8`);
  assert.equal(await pub.evaluate(() => document.getElementById('simulcast').checked), true,
    'the teacher page sends simulcast by default');
  await pub.evaluate(() => window.lectern.start());
  await waitFor(() => pub.evaluate(() => window.lectern.state === 'live'), 10000, 'the teacher to go live');
  const answer = await pub.evaluate(() => window.lectern.session.pc.remoteDescription.sdp);
  assert.match(answer, /a=simulcast:recv l;m;h/);

  // The origin hears three layers, and ranks them by rate.
  let layers = [];
  await waitFor(async () => {
    const loc = await pub.evaluate(() => window.lectern.session.location);
    const s = await (await fetch(`${origin.url}/v1/sessions/${loc.split('/').pop()}`)).json();
    layers = s.simulcast?.layers || [];
    return layers.length === 3 && layers.every((l) => l.active && l.kbps > 0);
  }, 10000, 'three active layers at the origin').catch((e) => {
    e.message += ` ${JSON.stringify(layers)}`;
    throw e;
  });
  console.log(`  layers at the origin: ${layers.map((l) => `${l.rid} ${l.kbps} kbit/s`).join(', ')}`);
  assert.deepEqual(layers.map((l) => l.rid), ['l', 'm', 'h'], 'ranked smallest first');

  const low = await watch(origin, 'low');
  const auto = await watch(origin, 'auto');
  const wLow = await widthIn(low, 200, 400, 10000, 'the low viewer to get the small picture');
  const wAuto = await widthIn(auto, 900, 1280, 10000, 'the auto viewer to get the full picture');
  console.log(`  at the origin: low ${wLow}px, auto ${wAuto}px`);
  const sLow = await vsession(low);
  assert.equal(sLow.simulcast.preference, 'low');
  assert.equal(sLow.simulcast.current, 'l');

  // At the edge, over the leg: both ends of the range.
  const edgeLow = await watch(edge, 'low');
  const edgeHigh = await watch(edge, 'high');
  const eLow = await widthIn(edgeLow, 200, 400, 10000, 'the low viewer at the edge');
  const eHigh = await widthIn(edgeHigh, 900, 1280, 10000, 'the high viewer at the edge');
  console.log(`  at the edge: low ${eLow}px, high ${eHigh}px`);

  // The teacher's frames of one layer so far (its encoder's count).
  const encoded = (rid) => pub.evaluate(async (r) => {
    let n = 0;
    (await window.lectern.session.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid === r) n = s.framesEncoded || 0;
    });
    return n;
  }, rid);

  // Frames the student's jitter buffer assembled (what the node delivered,
  // before its decoder, which a starved Chromium may fall behind on).
  const received = (page) => page.evaluate(async () => {
    let n = 0;
    (await window.lectern.session.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesReceived || 0;
    });
    return n;
  });

  // The low student at the origin switches to high from the menu.
  const before = await vstats(low);
  const enc0 = await encoded('h');
  const rx0 = await received(low);
  const t0 = Date.now();
  await low.selectOption('#quality', 'high');
  // Under the sanitizers a starved teacher may have stopped sending h by
  // now ('high' is then the highest layer it sends: the session says).
  const topSent = async () => ((await vsession(low)).simulcast.layers.filter((l) => l.active).pop() || {}).rid;
  const w = await widthIn(low, 900, 1280, 3000, 'the picture to grow within 3 s').catch(async (e) => {
    if (!sanitized || (await topSent()) === 'h') throw e;
    measured(false, `${e.message}; the teacher sends up to ${await topSent()}`);
    return (await vstats(low)).width;
  });
  const switchMs = Date.now() - t0;
  await sleep(3000);
  const after = await vstats(low);
  const enc = (await encoded('h')) - enc0;
  const rx = (await received(low)) - rx0;
  console.log(`  low -> high: ${w}px after ${switchMs} ms; freezes ${after.freezeCount - before.freezeCount}, ` +
    `frames ${after.framesDecoded - before.framesDecoded} in the ${((Date.now() - t0) / 1000).toFixed(1)} s since ` +
    `(received ${rx}; the teacher encoded ${enc} of h)`);
  measured(after.freezeCount === before.freezeCount,
    `no freeze across the switch: ${after.freezeCount - before.freezeCount}`);
  // The node delivers the teacher's frames of h after the switch (at
  // least half of those encoded since; a starved Chromium may decode
  // fewer, its own frames dropped), and decoding goes on.
  if (rx < enc / 2) {
    const ss = await vsession(low);
    measured(false, `received ${rx} of the ${enc} frames of h encoded since the switch; its session: ` +
      JSON.stringify({ simulcast: ss.simulcast, nacks: ss.nacks, retransmits: ss.retransmits,
        keyframe_requests: ss.keyframe_requests, reported: ss.reported, video_packets: ss.video_packets }) +
      `; the player: ${JSON.stringify(after)}`);
  }
  assert.ok(after.framesDecoded > before.framesDecoded, 'decoding went on');
  const s2 = await vsession(low);
  assert.equal(s2.simulcast.current, w >= 900 ? 'h' : await topSent());
  assert.ok(s2.simulcast.switches >= 1);
  // The one PeerConnection, the one SSRC: the same video track.
  assert.equal(await low.evaluate(() => window.lectern.sessions), 1);
  assert.ok(await origin.metric('lectern_layer_switches_total') >= 1);
  if (w >= 900) assert.ok(await origin.metric('lectern_layer_viewers', 'layer="high"') >= 2);
  await browser.close();
  browser = null;
});
