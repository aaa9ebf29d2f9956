// Steering as a browser sees it (issue 6): a cluster over a real
// nats-server; Chromium publishes to the origin; a Chromium viewer opens
// the viewer page of an edge in another region, POSTs its WHEP offer
// there, follows the 307 across origins (CORS preflight included) to the
// node that can serve the stream and plays from it.  Until the cascade
// lands that node is the origin, the only holder of the stream.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NatsServer, Node, waitFor } from '../integration/lib.mjs';
import { launch } from './lib.mjs';

const all = [];
let browser;
after(async () => {
  await browser?.close().catch(() => {});
  for (const x of all) await x.stop('SIGKILL').catch(() => {});
});

test('a Chromium viewer follows the 307 to the node that serves the stream', { timeout: 120000 }, async () => {
  const nats = await NatsServer.start();
  all.push(nats);
  const http = 'cors_origins: ["*"]';
  const origin = new Node('origin', 'origin-eu', 'eu-central-1', nats.url,
    'ice: {addresses: [127.0.0.1], port_range: 32000-32499}\n', http);
  const edge = new Node('edge', 'edge-us', 'us-east-1', nats.url,
    'ice: {addresses: [127.0.0.1], port_range: 32500-32999}\n', http);
  all.push(origin, edge);
  await Promise.all([origin.start(), edge.start()]);
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 5000, `${n.id} to see the cluster`);

  browser = await launch();
  const pub = await (await browser.newContext()).newPage();
  await pub.goto(`${origin.url}/publish?stream=class&codec=VP8`);
  await pub.evaluate(() => window.lectern.start());
  await waitFor(() => pub.evaluate(() => window.lectern.state === 'live'), 10000, 'the teacher to go live');
  // The edge learns from the origin's heartbeat who holds the stream.
  await waitFor(async () => (await edge.cluster()).nodes.some((n) => n.id === 'origin-eu' &&
    (n.streams || []).some((s) => (s.stream || s) === 'class')), 5000, 'the edge to see the stream');

  const steer = await (await fetch(`${edge.url}/v1/steer?stream=class`)).json();
  assert.deepEqual(steer.ranked.map((r) => r.node), ['origin-eu']);

  const viewer = await (await browser.newContext()).newPage();
  const t0 = Date.now();
  await viewer.goto(`${edge.url}/watch/class?region=us-east-1`);
  await waitFor(() => viewer.evaluate(() => (window.lectern.stats?.framesDecoded || 0) > 0), 15000,
    'the steered viewer to decode');
  console.log(`  steered viewer decodes ${Date.now() - t0} ms after opening the edge's page`);
  assert.equal(await viewer.evaluate(() => window.lectern.node), origin.url, 'plays from the origin');
  const sessions = (await origin.get('/v1/streams')).body.sessions;
  assert.equal(sessions.filter((s) => s.kind === 'viewer').length, 1);
  assert.equal((await edge.get('/v1/streams')).body.sessions.length, 0);
  const metrics = await (await fetch(`${edge.url}/metrics`)).text();
  assert.match(metrics, /lectern_steer_decisions_total\{result="redirect"\} [1-9]/);
  await pub.evaluate(() => window.lectern.stop());
});
