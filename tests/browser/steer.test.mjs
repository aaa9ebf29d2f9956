// Steering as a browser sees it (issue 6): a cluster over a real
// nats-server (an origin in eu-central-1, edges in us-east-1 and
// ap-southeast-2); Chromium publishes to the origin; a Chromium viewer
// "from Sydney" (?region= hint) opens the origin's viewer page, POSTs its
// WHEP offer there, follows the 307 across origins (CORS preflight
// included) to the ap-southeast-2 edge, which pulls the stream over a
// relay leg, and plays from it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../integration/lib.mjs';
import { NatsServer, Node, waitFor } from '../integration/lib.mjs';
import { launch } from './lib.mjs';

const all = [];
let browser;
after(async () => {
  await browser?.close().catch(() => {});
  await lib.teardown(all);
});

test('a Chromium viewer at the origin follows the 307 and plays from its edge', { timeout: 120000 }, async () => {
  const nats = await NatsServer.start();
  all.push(nats);
  const http = 'cors_origins: ["*"]';
  const origin = new Node('origin', 'origin-eu', 'eu-central-1', nats.url,
    'ice: {addresses: [127.0.0.1], port_range: 32000-32499}\n', http);
  const us = new Node('edge', 'edge-us', 'us-east-1', nats.url,
    'ice: {addresses: [127.0.0.1], port_range: 32500-32999}\n', http);
  const edge = new Node('edge', 'edge-ap', 'ap-southeast-2', nats.url,
    'ice: {addresses: [127.0.0.1], port_range: 33000-33499}\n', http);
  all.push(origin, us, edge);
  await Promise.all([origin.start(), us.start(), edge.start()]);
  for (const n of [origin, us, edge])
    await waitFor(async () => (await n.ids()).length === 3, 5000, `${n.id} to see the cluster`);

  browser = await launch();
  const pub = await (await browser.newContext()).newPage();
  await pub.goto(`${origin.url}/publish?stream=class&codec=VP8`);
  await pub.evaluate(() => window.lectern.start());
  await waitFor(() => pub.evaluate(() => window.lectern.state === 'live'), 10000, 'the teacher to go live');
  // The edges learn from the origin's heartbeat who holds the stream.
  await waitFor(async () => (await edge.cluster()).nodes.some((n) => n.id === 'origin-eu' &&
    (n.streams || []).some((s) => (s.stream || s) === 'class')), 5000, 'the edge to see the stream');

  const steer = await (await fetch(`${origin.url}/v1/steer?stream=class&region=ap-southeast-2`)).json();
  assert.deepEqual(steer.ranked.map((r) => r.node), ['edge-ap', 'edge-us']);

  const viewer = await (await browser.newContext()).newPage();
  const t0 = Date.now();
  await viewer.goto(`${origin.url}/watch/class?region=ap-southeast-2`);
  await waitFor(() => viewer.evaluate(() => (window.lectern.stats?.framesDecoded || 0) > 0), 15000,
    'the steered viewer to decode');
  console.log(`  steered viewer decodes ${Date.now() - t0} ms after opening the origin's page`);
  assert.equal(await viewer.evaluate(() => window.lectern.node), edge.url, 'plays from its edge');
  const sessions = (await edge.get('/v1/streams')).body.sessions;
  assert.equal(sessions.filter((s) => s.kind === 'viewer').length, 1);
  assert.equal((await origin.get('/v1/streams')).body.sessions.filter((s) => s.kind === 'viewer').length, 0);
  assert.equal((await us.get('/v1/streams')).body.sessions.length, 0);
  assert.match(edge.log, /relayed from origin-eu, depth 1/);
  const metrics = await (await fetch(`${origin.url}/metrics`)).text();
  assert.match(metrics, /lectern_steer_decisions_total\{result="redirect"\} [1-9]/);
  await pub.evaluate(() => window.lectern.stop());
});
