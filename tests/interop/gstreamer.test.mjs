// Clients a teacher or student might bring, beside Chromium (issue 15):
// GStreamer 1.22's webrtcbin with its stock settings (max-bundle: the
// audio section offered with port 0 and a=bundle-only), publishing over
// WHIP and playing over WHEP through tests/interop/gst_client.py, at the
// origin and at an edge fed over a relay leg (a real nats-server).
//
//   - GStreamer publishes H.264 from x264 (Constrained Baseline, offered as
//     profile-level-id=42c01f) to the origin, and the publisher's audio
//     section was answered, not refused; Chromium viewers (which offer
//     42e01f) play it, one asking the origin, one asking the edge, and so
//     does a GStreamer viewer at the edge (openh264dec);
//   - GStreamer publishes VP8 and GStreamer viewers play it: one asking the
//     origin (which serves its own region's viewers: steering.origin_viewers
//     own_region, issue 16), one asking the edge: decoded video frames and
//     audio buffers at each.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as lib from '../integration/lib.mjs';
import { Node, NatsServer, waitFor, sleep } from '../integration/lib.mjs';
import { launch } from '../browser/lib.mjs';

const CLIENT = path.join(path.dirname(new URL(import.meta.url).pathname), 'gst_client.py');
const ICE = 'ice: {addresses: [127.0.0.1]}\n';
const procs = [];
let browser;
after(async () => {
  await browser?.close().catch(() => {});
  await lib.teardown(procs);
});

// Runs gst_client.py; resolves with its JSON line.
function gst(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', () => {
      clearTimeout(t);
      const line = out.trim().split('\n').pop();
      try { resolve(JSON.parse(line)); } catch { reject(new Error(`gst_client ${args.join(' ')}: ${out} ${err}`)); }
    });
  });
}

async function cluster() {
  const nats = await NatsServer.start();
  const origin = new Node('origin', 'origin-gst', 'eu-central-1', nats.url, ICE);
  const edge = new Node('edge', 'edge-gst', 'us-east-1', nats.url, ICE);
  procs.push(nats, origin, edge);
  await origin.start();
  await edge.start();
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 8000, `${n.id} to see the cluster`);
  return { origin, edge };
}

test('GStreamer (max-bundle, x264 42c01f) publishes; Chromium (42e01f) plays at the origin and an edge', async () => {
  const { origin, edge } = await cluster();
  const pub = gst(['publish', `${origin.url}/whip/gclass`, '--codec', 'H264', '--seconds', '16']);
  await waitFor(async () => (await origin.get('/v1/streams/gclass')).body.live, 10000, 'the GStreamer teacher to be live');
  // Its audio section (bundle-only, port 0) was answered.
  const { body: streams } = await fetch(`${origin.url}/v1/streams`).then(async (r) => ({ body: await r.json() }));
  assert.equal(streams.sessions.length, 1);
  assert.doesNotMatch(origin.log, /not served/, 'every section of the GStreamer offer served');
  const gview = gst(['view', `${edge.url}/whep/gclass`, '--codec', 'H264', '--seconds', '8']);
  browser = await launch();
  const pages = [];
  for (const n of [origin, edge]) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${n.url}/watch/gclass`);
    pages.push(page);
  }
  for (const [i, page] of pages.entries()) {
    await waitFor(async () => ((await page.evaluate(() => window.lectern.stats))?.framesDecoded || 0) > 30, 15000,
      `Chromium at ${i ? 'the edge' : 'the origin'} to decode the x264 stream`);
    const st = await page.evaluate(() => window.lectern.stats);
    console.log(`# Chromium at ${i ? 'the edge' : 'the origin'}: ${st.codec} ${st.width}x${st.height}, ${st.framesDecoded} frames`);
    assert.match(st.codec, /H264/i);
  }
  const v = await gview;
  console.log(`# GStreamer H.264 viewer at the edge: ${JSON.stringify(v)}`);
  assert.equal(v.status, 201, v.error);
  assert.ok(v.connected, 'the GStreamer viewer: ICE connected');
  assert.ok(v.video > 90, `the GStreamer viewer decoded ${v.video} H.264 frames`);
  const r = await pub;
  console.log(`# GStreamer publisher: ${JSON.stringify(r)}`);
  assert.equal(r.status, 201);
  assert.ok(r.connected, 'ICE connected');
  assert.ok(r.video > 300, `frames sent: ${r.video}`);
});

test('GStreamer publishes VP8; GStreamer viewers play at the origin and an edge', async () => {
  const { origin, edge } = await cluster();
  const pub = gst(['publish', `${origin.url}/whip/gvp8`, '--codec', 'VP8', '--seconds', '14']);
  await waitFor(async () => (await origin.get('/v1/streams/gvp8')).body.live, 10000, 'the GStreamer teacher to be live');
  const views = await Promise.all([origin, edge].map((n) => gst(['view', `${n.url}/whep/gvp8`, '--codec', 'VP8', '--seconds', '8'])));
  for (const [i, v] of views.entries()) {
    const where = i ? 'the edge' : 'the origin';
    console.log(`# GStreamer viewer at ${where}: ${JSON.stringify(v)}`);
    assert.equal(v.status, 201, `${where}: ${v.error}`);
    assert.ok(v.connected, `${where}: ICE connected`);
    assert.ok(v.video > 90, `${where}: decoded video frames ${v.video}`);
    assert.ok(v.audio > 50, `${where}: audio buffers ${v.audio}`);
  }
  const r = await pub;
  assert.equal(r.status, 201);
  await sleep(100);
});
