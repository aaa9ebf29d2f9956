// The control plane with real processes and a real nats-server (issue 4):
// membership, expiry, NATS outages, floods, late NATS, duplicate ids.
import * as lib from './lib.mjs';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { NatsServer, Node, waitFor, flood, freePort, sleep } from './lib.mjs';

const all = [];
after(() => lib.teardown(all));

test('a cluster forms, survives kills, NATS restarts and floods', { timeout: 90000 }, async (t) => {
  const nats = await NatsServer.start();
  all.push(nats);
  const origin = new Node('origin', 'origin-eu', 'eu-central-1', nats.url);
  const edgeUs = new Node('edge', 'edge-us', 'us-east-1', nats.url);
  const edgeAp = new Node('edge', 'edge-ap', 'ap-southeast-2', nats.url);
  const nodes = [origin, edgeUs, edgeAp];
  all.push(...nodes);
  const t0 = Date.now();
  await Promise.all(nodes.map((n) => n.start()));
  const want = ['edge-ap', 'edge-us', 'origin-eu'];

  await t.test('every node lists the whole cluster within 2 s', async () => {
    for (const n of nodes) {
      await waitFor(async () => JSON.stringify(await n.ids()) === JSON.stringify(want),
        2000 - (Date.now() - t0) + 50, `${n.id} to see all`);
    }
    console.log(`  formed in ${Date.now() - t0} ms from process start`);
    const c = await origin.cluster();
    const us = c.nodes.find((x) => x.id === 'edge-us');
    assert.equal(us.role, 'edge');
    assert.equal(us.region, 'us-east-1');
    assert.equal(us.location.lat, 39);
    assert.match(us.http_url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(c.bus.connected, true);
  });

  await t.test('the RTT matrix fills in', async () => {
    await waitFor(async () => (await origin.cluster()).rtt_matrix.length >= 6, 6000, 'rtt matrix');
    const c = await origin.cluster();
    for (const e of c.rtt_matrix) assert.ok(e.rtt_us > 0 && e.rtt_us < 1e6);
  });

  await t.test('NATS micro discovery finds every node', async () => {
    // $SRV.PING over the raw protocol, collecting replies for 500 ms.
    const net = await import('node:net');
    const sock = net.connect(nats.port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d.toString(); });
    sock.write('CONNECT {"verbose":false}\r\nSUB _INBOX.disc 1\r\nPUB $SRV.PING.lectern _INBOX.disc 0\r\n\r\n');
    await sleep(500);
    sock.end();
    for (const id of want) assert.ok(data.includes(`"id":"${id}"`), `${id} answered $SRV.PING`);
    assert.ok(data.includes('io.nats.micro.v1.ping_response'));
  });

  await t.test('an edge killed with SIGKILL leaves the views within 4 s', async () => {
    const k0 = Date.now();
    await edgeAp.stop('SIGKILL');
    for (const n of [origin, edgeUs]) {
      await waitFor(async () => !(await n.ids()).includes('edge-ap'), 4000 - (Date.now() - k0),
        `${n.id} to drop edge-ap`);
    }
    console.log(`  edge-ap left the views ${Date.now() - k0} ms after SIGKILL`);
    assert.match(origin.log, /node edge-ap \(edge, ap-southeast-2\) left/);
    await edgeAp.start(); // back for the next steps
    for (const n of nodes)
      await waitFor(async () => (await n.ids()).length === 3, 3000, `${n.id} to see edge-ap back`);
  });

  await t.test('NATS killed and restarted: nodes keep serving, reconnect and converge', async () => {
    await nats.stop('SIGKILL');
    await waitFor(async () => (await origin.cluster()).bus.connected === false, 5000, 'disconnect seen');
    // Nothing that serves stops: HTTP answers, the view is frozen, not emptied.
    for (const n of nodes) {
      assert.equal((await n.get('/healthz')).status, 200);
      const c = await n.cluster();
      assert.equal(c.frozen, true);
      assert.equal(c.nodes.length, 3);
    }
    await sleep(1500);
    const r0 = Date.now();
    await nats.restart();
    for (const n of nodes) {
      await waitFor(async () => {
        const c = await n.cluster();
        return c.bus.connected && !c.frozen && c.nodes.length === 3 &&
          c.nodes.every((x) => x.age_ms < 1500);
      }, 1500 - (Date.now() - r0), `${n.id} to reconnect and converge`);
    }
    // README: retries back off to ~1 s, and a reconnected node republishes
    // at once, so views converge within ~1 s of NATS coming back.
    console.log(`  converged ${Date.now() - r0} ms after nats-server restarted`);
    const c = await origin.cluster();
    assert.ok(c.bus.reconnects >= 1);
  });

  await t.test('a rogue client flooding malformed protobuf changes nothing but the counters', async () => {
    const before = await Promise.all(nodes.map((n) => n.cluster()));
    const subjects = ['lectern.v1.node.hb.eu-central-1.origin-eu', 'lectern.v1.node.hb.x.y',
      'lectern.v1.stream.class-1.event'];
    for (const n of nodes) subjects.push(`lectern.v1.relay.${n.id}.open`,
      `lectern.v1.relay.${n.id}.close`, `lectern.v1.node.${n.id}.ping`);
    await flood(nats.port, subjects, 500);
    await waitFor(async () => {
      const now = await Promise.all(nodes.map((n) => n.cluster()));
      return now.every((c, i) => c.bus.dropped.malformed > before[i].bus.dropped.malformed + 400);
    }, 5000, 'drop counters to rise');
    for (const n of nodes) {
      assert.equal((await n.get('/healthz')).status, 200);
      assert.deepEqual(await n.ids(), want);
      assert.equal(n.proc.exitCode, null);
    }
  });

  await t.test('/metrics of a clustered node passes promtool and counts the flood', async () => {
    const { execFileSync } = await import('node:child_process');
    const text = await (await fetch(origin.url + '/metrics')).text();
    execFileSync('promtool', ['check', 'metrics'], { input: text }); // throws on failure
    assert.match(text, /^lectern_nats_connected 1$/m);
    assert.match(text, /^lectern_cluster_nodes\{role="edge"\} 2$/m);
    const dropped = Number(/^lectern_nats_messages_dropped_total\{reason="malformed"\} (\d+)$/m.exec(text)[1]);
    assert.ok(dropped > 400, `dropped ${dropped}`);
    assert.match(text, /^lectern_nats_reconnects_total [1-9]/m);
  });

  await t.test('SIGTERM: the others see the node draining, then gone', async () => {
    // Its last heartbeat says draining (with no session to wait for, it
    // exits at once): the origin's view shows that until the node expires.
    const seen = [];
    const t0 = Date.now();
    const watcher = (async () => {
      while (Date.now() - t0 < 5000 && seen[seen.length - 1] !== 'gone') {
        const me = (await origin.cluster()).nodes.find((x) => x.id === 'edge-us');
        seen.push(me ? (me.draining ? 'draining' : 'serving') : 'gone');
        await sleep(25);
      }
    })();
    await sleep(100);
    const code = await edgeUs.stop('SIGTERM');
    assert.equal(code, 0, `edge-us exited with ${code}; its log ends:\n${edgeUs.log.slice(-3000)}`);
    await watcher;
    console.log(`  edge-us left the origin's view ${Date.now() - t0 - 100} ms after SIGTERM`);
    const order = seen.filter((s, i) => i === 0 || s !== seen[i - 1]);
    assert.deepEqual(order, ['serving', 'draining', 'gone'], `the origin saw ${order.join(' -> ')}`);
  });
});

test('a node whose NATS is unreachable serves alone, then joins when NATS appears', { timeout: 30000 }, async () => {
  const port = await freePort();
  const lonely = new Node('edge', 'edge-lonely', 'us-east-1', `nats://127.0.0.1:${port}`);
  all.push(lonely);
  await lonely.start();
  assert.equal((await lonely.get('/healthz')).status, 200);
  assert.equal((await lonely.get('/readyz')).status, 200);
  let c = await lonely.cluster();
  assert.equal(c.bus.connected, false);
  assert.deepEqual(c.nodes.map((n) => n.id), ['edge-lonely']);
  const nats = await NatsServer.start(port);
  all.push(nats);
  const other = new Node('origin', 'origin-late', 'eu-central-1', nats.url);
  all.push(other);
  await other.start();
  await waitFor(async () => (await lonely.ids()).length === 2, 5000, 'the late join');
  c = await lonely.cluster();
  assert.equal(c.bus.connected, true);
  await lonely.finish();
  await other.finish();
  await nats.stop();
});

test('two processes with one node id are reported loudly', { timeout: 30000 }, async () => {
  const nats = await NatsServer.start();
  all.push(nats);
  const a = new Node('edge', 'edge-twin', 'us-east-1', nats.url);
  const b = new Node('edge', 'edge-twin', 'us-east-1', nats.url);
  all.push(a, b);
  await a.start();
  await b.start();
  await waitFor(() => /DUPLICATE NODE ID/.test(a.log) && /DUPLICATE NODE ID/.test(b.log), 5000,
    'both twins to complain');
  const c = await a.cluster();
  assert.ok(c.bus.duplicate_ids > 0);
  await a.finish();
  await b.finish();
  await nats.stop();
});
