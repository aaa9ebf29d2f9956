// Attacks on a running node (issue 14), each with honest viewers watching
// the same class: they must keep playing (every packet counted per viewer,
// no gap), and the node's counters must show what it refused.
//
//   - one viewer floods NACKs (the newest 256 packets, every 10 ms) and
//     keyframe requests: it gets at most its budget of resends, the
//     teacher is asked for about one keyframe a second, the others play;
//   - 60 half-open WHEP offers from one address: 8 are taken (limits.
//     max_pending_per_address), they end at limits.connect_timeout, and
//     viewers from another address join and play;
//   - 300 idle TCP connections from one address, then 16 from each of
//     seven more (over http.max_connections): one address keeps 16, the
//     longest idle make room, /healthz answers throughout, viewers play;
//   - on the bus, a real edge of another cluster and a raw client: the
//     edge is never in the view nor steered to and gets no leg; the
//     client's answers to RelayOpen (sent first) and its RelayCloses are
//     dropped; the class plays on at the edge;
//   - NATS over TLS: a node connects only to a server whose certificate
//     carries nats.tls.server_name (or the URL's host).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import * as lib from './lib.mjs';
import { Node, load, videoPps, assertEveryViewer, waitFor, sleep } from './lib.mjs';

const procs = [];
after(() => lib.teardown(procs));

const ICE = 'ice: {addresses: [127.0.0.1]}\n';

test('a viewer flooding NACKs and keyframe requests gets its budget; the others play', async () => {
  const origin = new Node('origin', 'origin-atk', 'eu-central-1', null, ICE);
  procs.push(origin);
  await origin.start();
  const seconds = 8, viewers = 4;
  const pliBefore = await origin.metric('lectern_rtcp_pli_total', 'direction="out"');
  const rtxBefore = await origin.metric('lectern_retransmits_total');
  const started = Date.now();
  const r = await load(['--url', origin.url, '--stream', 'class', '--viewers', String(viewers),
    '--seconds', String(seconds), '--hostile', '1']);
  const ranS = (Date.now() - started) / 1000;
  const honest = r.per_viewer.filter((v) => !v.hostile);
  const hostile = r.per_viewer.find((v) => v.hostile);
  assert.equal(honest.length, viewers - 1);
  assertEveryViewer({ ...r, per_viewer: honest }, { viewers: viewers - 1, seconds, share: 0.95,
    maxGapMs: 300, what: 'honest viewers' });
  // What the node resent (the attacker's own SRTP drops the copies it
  // already had, so count at the node): its burst and at most half of the
  // packets it got (video and audio) again.  Without the budget: every
  // NACKed packet, ~25,000 a second.
  const resent = (await origin.metric('lectern_retransmits_total')) - rtxBefore;
  const budget = 160 + 0.5 * (videoPps() + 50) * ranS;
  console.log(`# flood: ${resent} packets resent in ${ranS.toFixed(1)} s (budget ${budget.toFixed(0)}); ` +
    `the attacker got ${hostile.video} video packets, honest viewers at least ` +
    `${Math.min(...honest.map((v) => v.video))} (stream ${videoPps() * seconds})`);
  assert.ok(resent <= budget, `the attacker's resends are bounded: ${resent} > ${budget}`);
  assert.ok(resent > 0.3 * videoPps() * seconds, `a budget, not a ban: ${resent}`);
  const refused = await origin.metric('lectern_refused_total', 'reason="resend_budget"');
  const repeated = await origin.metric('lectern_refused_total', 'reason="resend_repeated"');
  const kfRefused = await origin.metric('lectern_refused_total', 'reason="keyframe_budget"');
  const pli = (await origin.metric('lectern_rtcp_pli_total', 'direction="out"')) - pliBefore;
  console.log(`# refused: ${refused} resends over budget, ${repeated} repeats, ${kfRefused} keyframe ` +
    `requests; ${pli} keyframe requests to the teacher in ${ranS.toFixed(1)} s`);
  assert.ok(refused > 100000, `resends refused are counted (${refused})`);
  assert.ok(kfRefused > 500, `keyframe requests refused are counted (${kfRefused})`);
  // ~1 a second from the attacker, and the joins' own; the room alone
  // would let ~3 a second through.
  assert.ok(pli <= Math.ceil(ranS) + 4, `keyframe requests to the teacher: ${pli} in ${ranS} s`);
});

// An HTTP request from a loopback address of our choosing (127.0.0.2 is
// another client to the node); resolves with the status and body.
function request(url, { method = 'GET', body, from = '127.0.0.1', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, localAddress: from, headers, agent: false }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${url}: no answer in 5 s`)));
    if (body) req.write(body);
    req.end();
  });
}

const OFFER = readFileSync(new URL('../fuzz/corpus/fuzz_sdp/chrome_whep_offer.sdp', import.meta.url));

test('half-open offers from one address cannot fill the node; they end at limits.connect_timeout', async () => {
  const origin = new Node('origin', 'origin-half', 'eu-central-1', null, ICE +
    'limits: {max_viewers: 40, max_pending_per_address: 8, connect_timeout: 3s}\n');
  procs.push(origin);
  await origin.start();
  const seconds = 8;
  const run = load(['--url', origin.url, '--stream', 'class', '--viewers', '3', '--seconds', String(seconds)]);
  await waitFor(async () => (await origin.get('/v1/streams/class')).body.live === true, 5000, 'the class to be live');
  // 60 offers that will never do ICE, from 127.0.0.2, all at once.
  const answers = await Promise.all(Array.from({ length: 60 }, () => request(`${origin.url}/whep/class`,
    { method: 'POST', from: '127.0.0.2', body: OFFER, headers: { 'Content-Type': 'application/sdp' } })));
  const by = {};
  for (const a of answers) by[a.status] = (by[a.status] || 0) + 1;
  console.log(`# 60 half-open offers from one address: ${JSON.stringify(by)}`);
  assert.equal(by[201], 8, `at most limits.max_pending_per_address in progress: ${JSON.stringify(by)}`);
  assert.equal(by[429], 52);
  assert.match(answers.find((a) => a.status === 429).body, /in progress from your address/);
  // Trickled candidates are bounded per session (32 in all).
  const session = answers.find((a) => a.status === 201).headers.location;
  const cands = Array.from({ length: 100 }, (_, i) =>
    `a=candidate:${i} 1 udp 2122260223 127.0.0.2 ${40000 + i} typ host\r\n`).join('');
  const patch = await request(session, { method: 'PATCH', from: '127.0.0.2', body: cands,
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' } });
  assert.equal(patch.status, 204);
  const dropped = await origin.metric('lectern_refused_total', 'reason="remote_candidates"');
  assert.ok(dropped >= 68, `trickled candidates past 32 are dropped and counted (${dropped})`);
  const r = await run;
  assertEveryViewer(r, { viewers: 3, seconds, share: 0.95, maxGapMs: 300, what: 'viewers from another address' });
  // The half-open ones failed at connect_timeout (3 s, long before the
  // load ended): counted, and the address may try again.
  assert.ok(await origin.metric('lectern_refused_total', 'reason="never_connected"') >= 8, 'half-open sessions end');
  assert.equal(await origin.metric('lectern_refused_total', 'reason="sessions_in_progress_per_address"'), 52);
  const again = await request(`${origin.url}/whep/class`, { method: 'POST', from: '127.0.0.2', body: OFFER,
    headers: { 'Content-Type': 'application/sdp' } });
  assert.notEqual(again.status, 429, `the address's count came back (${again.status})`);
});

test('idle connections from a few addresses cannot stop HTTP: /healthz and viewers keep working', async () => {
  const origin = new Node('origin', 'origin-idle', 'eu-central-1', null, ICE,
    'max_connections: 64, max_connections_per_address: 16');
  procs.push(origin);
  await origin.start();
  const socks = [];
  const open = (from) => new Promise((resolve) => {
    const s = net.connect({ port: origin.port, host: '127.0.0.1', localAddress: from }, () => resolve(s));
    s.on('error', () => resolve(s));
    s.on('close', () => { s.closedByServer = true; });
    socks.push(s);
  });
  try {
    // 300 from one address: 16 stay.
    await Promise.all(Array.from({ length: 300 }, () => open('127.0.0.2')));
    await sleep(300);
    const kept = socks.filter((s) => !s.closedByServer).length;
    console.log(`# 300 idle connections from one address: ${kept} kept`);
    assert.ok(kept <= 16, `one address keeps at most 16 (${kept})`);
    assert.equal((await request(`${origin.url}/healthz`)).status, 200);
    // 16 from each of seven more addresses (128 in all, over the limit of
    // 64): the longest idle make room, and /healthz answers throughout.
    for (let a = 3; a <= 9; a++) {
      await Promise.all(Array.from({ length: 16 }, () => open(`127.0.0.${a}`)));
      assert.equal((await request(`${origin.url}/healthz`)).status, 200, `/healthz with 127.0.0.${a}'s connections open`);
    }
    const r = await load(['--url', origin.url, '--stream', 'class', '--viewers', '2', '--seconds', '4']);
    assertEveryViewer(r, { viewers: 2, seconds: 4, share: 0.95, maxGapMs: 300, what: 'viewers during the flood' });
    const perAddr = await origin.metric('lectern_refused_total', 'reason="connections_per_address"');
    const evicted = await origin.metric('lectern_refused_total', 'reason="idle_connection_evicted"');
    console.log(`# refused per address ${perAddr}, idle evicted ${evicted}`);
    // Each of the one address's 300 was kept (16 at most), refused, or
    // evicted as the longest idle (which made room for another of them).
    assert.ok(perAddr > 0, `refused from the one address (${perAddr})`);
    assert.ok(perAddr + evicted >= 284, `refused or evicted: ${perAddr} + ${evicted}`);
    assert.ok(evicted >= 48, `idle connections evicted under pressure (${evicted})`);
  } finally {
    for (const s of socks) s.destroy();
  }
});

// A rogue on the bus, speaking NATS's text protocol: answers every
// RelayOpen it sees at once with junk in an envelope (before the real
// source can), and publishes what it is told to.
class Rogue {
  static async connect(port) {
    const r = new Rogue();
    r.sock = net.connect(port, '127.0.0.1');
    await new Promise((ok, no) => { r.sock.once('connect', ok); r.sock.once('error', no); });
    r.answered = 0;
    lib.natsReader(r.sock, (subject, reply) => {
      if (reply) { r.pub(reply, lib.envelope(Buffer.from('junk answer'), 'origin-bus')); r.answered++; }
    });
    r.sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"rogue"}\r\nSUB lectern.v1.relay.*.open 1\r\n');
    return r;
  }
  pub(subject, payload) { this.sock.write(`PUB ${subject} ${payload.length}\r\n`); this.sock.write(payload); this.sock.write('\r\n'); }
  close() { this.sock.destroy(); }
}

test('forged bus messages: a stranger and a node of another cluster cannot join, steer, pull or close', async () => {
  const nats = await lib.NatsServer.start();
  const origin = new Node('origin', 'origin-bus', 'eu-central-1', nats.url, ICE);
  const edge = new Node('edge', 'edge-bus', 'us-east-1', nats.url, ICE);
  // A real lectern edge in the same region, with an identity from another
  // cluster: well-formed and signed, but not by ours.
  const foreign = new lib.Cluster();
  const evilDir = mkdtempSync(path.join(os.tmpdir(), 'lectern-evil-'));
  const evil = new Node('edge', 'edge-evil', 'us-east-1', nats.url, ICE + foreign.yaml('edge-evil', evilDir));
  procs.push(nats, origin, edge, evil);
  for (const n of [origin, edge, evil]) await n.start();
  const rogue = await Rogue.connect(nats.port);
  try {
    await waitFor(async () => (await origin.ids()).includes('edge-bus'), 8000, 'the edge to join');
    await sleep(2500); // several heartbeats of the foreign edge
    assert.deepEqual(await origin.ids(), ['edge-bus', 'origin-bus'], 'the foreign edge is not in the view');
    assert.ok(!(await edge.ids()).includes('edge-evil'));
    const steer = (await origin.get('/v1/steer?region=us-east-1&stream=class')).body;
    assert.ok(!JSON.stringify(steer).includes('edge-evil'), `steering never names it: ${JSON.stringify(steer)}`);
    // A forged RelayClose for every leg id a rogue might guess, during the class.
    const forged = () => {
      for (const n of ['origin-bus', 'edge-bus'])
        for (const id of [0, 1, 2, 12345])
          rogue.pub(`lectern.v1.relay.${n}.close`, lib.envelope(lib.relayClose('class', id, 'edge-bus'), 'edge-bus'));
    };
    const run = load(['--url', origin.url, '--view-url', edge.url, '--stream', 'class', '--viewers', '3', '--seconds', '6']);
    const timer = setInterval(forged, 200);
    const r = await run.finally(() => clearInterval(timer));
    // The rogue answered the edge's RelayOpen first; the edge waited for the origin's.
    assert.ok(rogue.answered >= 1, 'the rogue saw and answered the RelayOpen');
    assertEveryViewer(r, { viewers: 3, seconds: 6, share: 0.95, maxGapMs: 300, what: 'viewers at the edge' });
    // The foreign edge asks the origin for the class: refused (dropped).
    const offer = await fetch(`${evil.url}/whep/class`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: OFFER });
    assert.notEqual(offer.status, 201, 'the foreign edge gets no stream');
    const forgedOrigin = await origin.metric('lectern_nats_messages_dropped_total', 'reason="forged"');
    const forgedEdge = await edge.metric('lectern_nats_messages_dropped_total', 'reason="forged"');
    console.log(`# forged messages dropped: origin ${forgedOrigin}, edge ${forgedEdge}; rogue answers ${rogue.answered}`);
    assert.ok(forgedOrigin >= 20 && forgedEdge >= 20, 'forgeries are counted');
    assert.doesNotMatch(origin.log + edge.log, /leg .*closed \(the requester closed it\)/, 'no forged close took');
  } finally {
    rogue.close();
  }
});

// A stranger on the bus who watches the RelayOpen subjects and, for each
// request it sees: answers on the requester's inbox with a bare NATS
// status (HPUB "NATS/1.0 503": what the server sends for "no responders",
// unsigned by nature); republishes the request itself 250 times as it
// was (a replay within the signature's window); and 50 times with
// another node's inbox as its reply subject.
class Replayer {
  static async connect(port) {
    const r = new Replayer();
    r.sock = net.connect(port, '127.0.0.1');
    await new Promise((ok, no) => { r.sock.once('connect', ok); r.sock.once('error', no); });
    Object.assign(r, { statuses: 0, replays: 0, redirected: 0, seen: 0 });
    lib.natsReader(r.sock, (subject, reply, payload) => {
      if (reply && r.seen++ < 4) r.attack(subject, reply, payload);
    });
    r.sock.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"name":"replayer"}\r\n' +
      'SUB lectern.v1.relay.*.open 1\r\n');
    return r;
  }
  attack(subject, reply, payload) {
    const status = 'NATS/1.0 503\r\n\r\n';
    this.sock.write(`HPUB ${reply} ${status.length} ${status.length}\r\n${status}\r\n`);
    this.statuses++;
    for (let i = 0; i < 250; i++) {
      this.sock.write(`PUB ${subject} ${reply} ${payload.length}\r\n`);
      this.sock.write(payload);
      this.sock.write('\r\n');
      this.replays++;
    }
    const other = '_INBOX.lectern.00000000deadbeef.r.1';
    for (let i = 0; i < 50; i++) {
      this.sock.write(`PUB ${subject} ${other} ${payload.length}\r\n`);
      this.sock.write(payload);
      this.sock.write('\r\n');
      this.redirected++;
    }
  }
  close() { this.sock.destroy(); }
}

test('a stranger that fails, replays and redirects every RelayOpen: each edge pulls once, its viewers play', async () => {
  const nats = await lib.NatsServer.start();
  const origin = new Node('origin', 'origin-rp', 'eu-central-1', nats.url, ICE, '', 'listen: 127.0.0.1:0, max_legs: 3');
  const e1 = new Node('edge', 'edge-rp1', 'us-east-1', nats.url, ICE);
  const e2 = new Node('edge', 'edge-rp2', 'ap-southeast-2', nats.url, ICE);
  procs.push(nats, origin, e1, e2);
  for (const n of [origin, e1, e2]) await n.start();
  for (const n of [origin, e1, e2])
    await waitFor(async () => (await n.ids()).length === 3, 8000, `${n.id} to see the cluster`);
  const rogue = await Replayer.connect(nats.port);
  try {
    // Edge 1 pulls while the stranger attacks its RelayOpen; then edge 2.
    const r1 = await load(['--url', origin.url, '--view-url', e1.url, '--stream', 'class', '--viewers', '2',
      '--seconds', '5']);
    assertEveryViewer(r1, { viewers: 2, seconds: 5, share: 0.9, maxGapMs: 500, what: 'edge 1 viewers' });
    assert.ok(rogue.statuses >= 1, 'the stranger answered edge 1\'s RelayOpen with a status');
    const r2 = await load(['--url', origin.url, '--view-url', e2.url, '--stream', 'class2', '--viewers', '2',
      '--seconds', '5']);
    assertEveryViewer(r2, { viewers: 2, seconds: 5, share: 0.9, maxGapMs: 500, what: 'edge 2 viewers' });
    const opened = (origin.log.match(/leg to edge-rp[12] .*opened/g) || []).length;
    const stale = await origin.metric('lectern_nats_messages_dropped_total', 'reason="stale"');
    const forgedOrigin = await origin.metric('lectern_nats_messages_dropped_total', 'reason="forged"');
    const forgedEdges = (await e1.metric('lectern_nats_messages_dropped_total', 'reason="forged"')) +
      (await e2.metric('lectern_nats_messages_dropped_total', 'reason="forged"'));
    console.log(`# stranger: ${rogue.statuses} statuses, ${rogue.replays} replays, ${rogue.redirected} redirected; ` +
      `legs opened ${opened}; origin dropped ${stale} as replays and ${forgedOrigin} as forged; edges ${forgedEdges} forged`);
    assert.equal(opened, 2, 'one leg per edge: the replays opened none');
    assert.ok(stale >= rogue.replays * 0.9, `replays dropped (${stale} of ${rogue.replays})`);
    assert.ok(forgedOrigin >= rogue.redirected * 0.9, `redirected requests dropped as forged (${forgedOrigin})`);
    assert.ok(forgedEdges >= rogue.statuses, `the statuses counted as forged at the edges (${forgedEdges})`);
    assert.doesNotMatch(origin.log, /relay\.max_legs reached/);
  } finally {
    rogue.close();
  }
});

test('NATS over TLS: a server whose certificate does not carry the expected name is not trusted', async () => {
  // A CA and a server certificate for nats.test, made here with openssl.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-tls-'));
  const f = (n) => path.join(dir, n);
  const ossl = (...a) => execFileSync('openssl', a, { stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'),
    '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=lectern test CA');
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('srv.key'),
    '-out', f('srv.csr'), '-subj', '/CN=nats.test');
  writeFileSync(f('ext'), 'subjectAltName=DNS:nats.test\n');
  ossl('x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('srv.pem'), '-days', '1', '-extfile', f('ext'));
  const nats = await lib.NatsServer.start(0, ['--tls', '--tlscert', f('srv.pem'), '--tlskey', f('srv.key')]);
  procs.push(nats);
  const url = `tls://127.0.0.1:${nats.port}`;
  const node = (id, name) => {
    const n = new Node('edge', id, 'us-east-1', null, ICE +
      `nats: {urls: ['${url}'], tls: {ca: ${f('ca.pem')}${name ? `, server_name: ${name}` : ''}}}\n`);
    writeFileSync(n.config, readFileSync(n.config, 'utf8') + lib.testCluster().yaml(id, n.dir));
    procs.push(n);
    return n;
  };
  const good = await node('edge-tls-good', 'nats.test').start();
  await waitFor(async () => (await good.metric('lectern_nats_connected')) === 1, 8000,
    'the node that checks the right name to connect');
  // A server whose certificate names another host: the node never talks to
  // it (nats.c gives up at once, and the node does not start, saying why;
  // or it keeps retrying, disconnected).
  for (const [id, name, what] of [['edge-tls-wrong', 'nats.example.org', 'another name'],
    ['edge-tls-url', null, 'the URL host (127.0.0.1, not in the certificate)']]) {
    const n = node(id, name).expectExit();
    await n.start().catch(() => null);
    await sleep(3000);
    const exited = n.proc.exitCode !== null;
    console.log(`# ${id}: ${exited ? `exited ${n.proc.exitCode}: ${n.log.split('\n').find((l) => /subscribe/.test(l))}`
      : 'running, not connected'}`);
    if (exited) {
      assert.notEqual(n.proc.exitCode, 0, `checking ${what}: the node does not run on that bus`);
      assert.match(n.log, /server's certificate must be signed by nats\.tls\.ca/, `checking ${what}: the log says why`);
    } else {
      assert.equal(await n.metric('lectern_nats_connected'), 0, `checking ${what}: not connected`);
      assert.equal((await n.cluster()).nodes.length, 1, `checking ${what}: it hears nobody`);
    }
  }
});
