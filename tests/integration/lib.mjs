// Helpers for integration tests: real processes on loopback, bounded waits.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Impair, freeUdpPort } from './impair.mjs';

export const BUILD = process.env.LECTERN_BUILD_DIR || path.resolve('build');
export const BIN = {
  origin: path.join(BUILD, 'origin', 'lectern-origin'),
  edge: path.join(BUILD, 'edge', 'lectern-edge'),
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value or `ms` pass; returns the value and the time taken.
export async function waitFor(fn, ms, what) {
  const t0 = Date.now();
  let last;
  do { // at least once, even when the caller's budget is spent
    try {
      last = await fn();
      if (last) return { value: last, elapsed: Date.now() - t0 };
    } catch (e) {
      last = e;
    }
    await sleep(50);
  } while (Date.now() - t0 < ms);
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${last}`);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const children = new Set();
// Every Node started in this file, so that teardown ends each with
// SIGTERM and checks its exit, listed in `procs` or not.
const startedNodes = new Set();
process.on('exit', () => {
  for (const c of children) try { c.kill('SIGKILL'); } catch {}
});

export class NatsServer {
  constructor(port) { this.port = port; this.url = `nats://127.0.0.1:${port}`; }
  // `args`: more nats-server options (TLS, ...).
  static async start(port, args = []) {
    const s = new NatsServer(port || (await freePort()));
    s.args = args;
    await s.restart();
    return s;
  }
  async restart() {
    this.proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), ...(this.args || [])],
      { stdio: 'ignore' });
    children.add(this.proc);
    await waitFor(() => new Promise((res) => {
      const c = net.connect(this.port, '127.0.0.1', () => { c.end(); res(true); });
      c.on('error', () => res(false));
    }), 5000, 'nats-server to listen');
  }
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill(signal);
    await done;
    children.delete(this.proc);
  }
}

// The test run's cluster (README "Security model"): one cluster key, made
// with the binary's own tool, and an identity issued to each node that
// joins a bus.  A test that wants a stranger on the bus uses another.
export class Cluster {
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'lectern-cluster-'));
    this.keyFile = path.join(this.dir, 'cluster.key');
    const out = execFileSync(BIN.origin, ['--new-cluster-key', this.keyFile]).toString();
    this.trustKey = /cluster\.trust_key: ([0-9a-f]{64})/.exec(out)[1];
  }
  // Writes node `id`'s identity file into `dir`; returns its path.
  issue(id, dir) {
    const file = path.join(dir, `${id}.identity`);
    execFileSync(BIN.origin, ['--issue-identity', id, '--cluster-key', this.keyFile, '--out', file]);
    return file;
  }
  yaml(id, dir) {
    return `cluster: {trust_key: ${this.trustKey}, identity_file: ${this.issue(id, dir)}}\n`;
  }
}
let cluster;
export const testCluster = () => (cluster ??= new Cluster());

export const REGIONS = `regions:
  - {name: eu-central-1, lat: 50.1, lon: 8.7}
  - {name: us-east-1, lat: 39.0, lon: -77.5}
  - {name: ap-southeast-2, lat: -33.9, lon: 151.2}
`;

// A lectern node as a process, its config written to a temp folder, its
// HTTP port read from its log (it listens on port 0).
export class Node {
  // extra: more top-level YAML; http, relay: more keys for those blocks.
  constructor(role, id, region, natsUrl, extra = '', http = '', relay = '') {
    this.role = role; this.id = id; this.region = region;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `lectern-${id}-`));
    this.config = path.join(this.dir, 'node.yaml');
    this.logFile = path.join(this.dir, 'node.log');
    // Tests publish without tokens unless they set some: say so (publishing
    // is closed by default).
    if (role === 'origin' && !/publish_tokens_file|open_publish/.test(extra))
      extra = /^auth: \{/m.test(extra) ? extra.replace(/^auth: \{/m, 'auth: {open_publish: true, ')
        : `${extra}${extra && !extra.endsWith('\n') ? '\n' : ''}auth: {open_publish: true}\n`;
    // node.drain_timeout: every test ends its nodes with SIGTERM (finish())
    // and waits for the exit; a short drain keeps that wait short.
    // setDrainTimeout() changes it.
    writeFileSync(this.config,
      `node: {id: ${id}, role: ${role}, region: ${region}, drain_timeout: ${DRAIN_S}s}\n` +
      (/^workers:/m.test(extra) ? '' : 'workers: 1\n') + `http: {listen: 127.0.0.1:0${http ? `, ${http}` : ''}}\nrelay: {${relay || 'listen: 127.0.0.1:0'}}\n` +
      (natsUrl ? `nats: {urls: ['${natsUrl}']}\n` : '') +
      (natsUrl && !/^cluster:/m.test(extra) ? testCluster().yaml(id, this.dir) : '') + REGIONS + extra);
    this.log = '';
    this.drainS = DRAIN_S;
  }
  async start() {
    this.log = '';
    this.stopSignal = undefined;
    startedNodes.add(this);
    this.proc = spawn(BIN[this.role], ['-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(this.proc);
    this.proc.stderr.on('data', (d) => { this.log += d.toString(); });
    // Its log stays in its folder; a node that dies unasked shows its end
    // (a sanitizer report, an assertion) in the test's output.
    const proc = this.proc;
    proc.once('exit', (code, sig) => {
      writeFileSync(this.logFile, this.log);
      if (!proc.stopping && !this.mayExit) {
        // Nothing may end a node but the test: finish() fails on this.
        this.unasked = `${this.id} exited by itself (${code ?? sig})`;
        console.log(`# ${this.unasked}; its log ends:\n${tail(this.log)}`);
      }
    });
    const { value } = await waitFor(() => {
      const m = /HTTP port (\d+)/.exec(this.log);
      return m && Number(m[1]);
    }, 5000, `${this.id} to start`);
    this.port = value;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }
  async get(p) {
    const r = await fetch(this.url + p);
    return { status: r.status, body: await r.json() };
  }
  async cluster() { return (await this.get('/v1/cluster')).body; }
  // A Prometheus sample's value (the sum over matching series), or 0.
  async metric(name, labels = '') {
    const text = await (await fetch(this.url + '/metrics')).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || (labels && !line.includes(labels))) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== '{' && rest[0] !== ' ') continue;
      sum += Number(line.split(' ').pop());
    }
    return sum;
  }
  async ids() { return (await this.cluster()).nodes.map((n) => n.id).sort(); }
  // Sends `signal` and resolves with the exit code (or signal name).  For a
  // test that ends a node on purpose (SIGKILL for a crash); every other end
  // goes through finish().
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null)
      return this.proc?.exitCode ?? this.proc?.signalCode;
    const done = new Promise((r) => this.proc.once('exit', (code, sig) => r(code ?? sig)));
    this.proc.stopping = true;
    this.stopSignal = signal;
    this.proc.kill(signal);
    const code = await done;
    children.delete(this.proc);
    return code;
  }
  // Ends the node as an operator does (SIGTERM: drain, then stop) and
  // asserts that it went cleanly: it had not exited by itself before, it
  // exits 0 within its drain time (plus a margin for the sanitizer
  // build), and its log holds no sanitizer report nor allocator abort.  A
  // node the test already stopped on purpose (stop()) is only checked for
  // having exited unasked.  Throws with the log's end on any failure.
  async finish() {
    if (this.unasked) throw new Error(`${this.unasked}; its log ends:\n${tail(this.log)}`);
    if (!this.proc) return;
    const limit = (this.drainS + 20) * 1000;
    const t0 = Date.now();
    let timer;
    const exited = this.proc.exitCode !== null || this.proc.signalCode !== null;
    const code = exited ? this.proc.exitCode ?? this.proc.signalCode : await Promise.race([
      this.proc.stopping ? new Promise((r) => this.proc.once('exit', (c, sig) => r(c ?? sig)))
        : this.stop('SIGTERM'),
      new Promise((r) => { timer = setTimeout(() => r('timeout'), limit); }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.proc.kill('SIGKILL');
      throw new Error(`${this.id} did not exit within ${limit} ms of SIGTERM; its log ends:\n${tail(this.log)}`);
    }
    if (this.stopSignal && this.stopSignal !== 'SIGTERM') return; // killed on purpose
    if (exited && this.mayExit && !this.proc.stopping) return; // the test checks its exit
    const report = SANITIZER.exec(this.log);
    if (code !== 0 || report)
      throw new Error(`${this.id} did not stop cleanly after SIGTERM (exit ${code} after ` +
        `${Date.now() - t0} ms${report ? `; "${report[0]}"` : ''}); its log ends:\n${tail(this.log, 120)}`);
  }
  // A node that may refuse to run (a test of a bad setup): its own exit
  // is not a failure; the test asserts it.
  expectExit() {
    this.mayExit = true;
    return this;
  }
  // node.drain_timeout in this node's config (before start()).
  setDrainTimeout(seconds) {
    this.drainS = seconds;
    writeFileSync(this.config, readFileSync(this.config, 'utf8')
      .replace(/drain_timeout: [0-9.]+s\}/, `drain_timeout: ${seconds}s}`));
  }
}

// What a node must never print: a sanitizer's report, glibc's allocator
// checks, an assertion.
const SANITIZER = /ERROR: (Address|Leak|Thread|Memory)Sanitizer[^\n]*|runtime error:[^\n]*|(double free|free\(\): |malloc\(\): |corrupted )[^\n]*|Assertion [^\n]* failed[^\n]*/;
const DRAIN_S = 3;
const tail = (log, n = 60) => log.split('\n').slice(-n).map((l) => `#   ${l}`).join('\n');

// Reads NATS's raw text protocol from `sock`: calls onMsg(subject, reply,
// payload) for each MSG, answers PING.  For tests' rogue clients.
export function natsReader(sock, onMsg) {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = buf.subarray(0, eol).toString();
      if (line.startsWith('MSG ')) {
        const parts = line.split(' ');
        const n = Number(parts[parts.length - 1]);
        if (buf.length < eol + 2 + n + 2) return;
        const payload = Buffer.from(buf.subarray(eol + 2, eol + 2 + n));
        buf = buf.subarray(eol + 2 + n + 2);
        onMsg(parts[1], parts.length === 5 ? parts[3] : null, payload);
        continue;
      }
      if (line === 'PING') sock.write('PONG\r\n');
      buf = buf.subarray(eol + 2);
    }
  });
}

// A rogue NATS client speaking the raw text protocol: publishes `count`
// messages of garbage to each subject, then closes.
export async function flood(port, subjects, count) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"rogue"}\r\n');
  const junk = [Buffer.from([0xff, 0x01, 0x02]), Buffer.from('not protobuf at all'),
    Buffer.alloc(300, 0x0a), Buffer.from([0x0a, 0x7f])];
  for (let i = 0; i < count; i++) {
    for (const s of subjects) {
      const p = junk[i % junk.length];
      sock.write(`PUB ${s} _INBOX.rogue ${p.length}\r\n`);
      sock.write(p);
      sock.write('\r\n');
    }
  }
  sock.write('PING\r\n');
  await new Promise((r) => sock.on('data', (d) => { if (d.toString().includes('PONG')) r(); }));
  sock.end();
}

// Publishes one message on NATS as a rogue client would (the raw text
// protocol), then closes.
export async function publishRaw(port, subject, payload) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"rogue"}\r\n');
  sock.write(`PUB ${subject} ${payload.length}\r\n`);
  sock.write(payload);
  sock.write('\r\nPING\r\n');
  await new Promise((r) => sock.on('data', (d) => { if (d.toString().includes('PONG')) r(); }));
  sock.end();
}

// A RelayClose (proto/lectern/v1/relay.proto) encoded by hand: header
// {version 1, sender_id}, stream, leg_id (left out when 0, as protobuf
// does), node_id.
export function relayClose(stream, legId, sender) {
  const str = (field, s) => Buffer.concat([Buffer.from([field << 3 | 2, s.length]), Buffer.from(s)]);
  const header = Buffer.concat([Buffer.from([0x08, 0x01]), str(2, sender)]);
  const parts = [Buffer.from([0x0a, header.length]), header, str(2, stream)];
  if (legId) {
    const v = [];
    for (let x = BigInt(legId); ; x >>= 7n) {
      if (x < 0x80n) { v.push(Number(x)); break; }
      v.push(Number(x & 0x7fn) | 0x80);
    }
    parts.push(Buffer.from([0x18, ...v]));
  }
  parts.push(str(4, sender));
  return Buffer.concat(parts);
}

// A varint and a length-delimited protobuf field, by hand.
const varint = (n) => {
  const v = [];
  for (let x = BigInt(n); ; x >>= 7n) {
    if (x < 0x80n) { v.push(Number(x)); break; }
    v.push(Number(x & 0x7fn) | 0x80);
  }
  return Buffer.from(v);
};
const lenField = (field, b) => Buffer.concat([Buffer.from([field << 3 | 2]), varint(b.length), b]);

// An Envelope (common.proto) around `body`, unsigned, naming `signer`: what
// a client that is not a node can put on the bus.
export function envelope(body, signer) {
  return Buffer.concat([lenField(1, body), lenField(2, Buffer.from(signer))]);
}

// A node (started) whose relay legs arrive through an impairment relay of
// its own (node.imp): its relay.public_addr is the relay's port, so every
// leg to it crosses it.  ICE on loopback.
export async function relayedNode(role, id, region, natsUrl, relayExtra = '', extra = '') {
  const real = await freeUdpPort();
  const imp = await new Impair({ target: { host: '127.0.0.1', port: real }, seed: real }).start();
  const n = new Node(role, id, region, natsUrl, 'ice: {addresses: [127.0.0.1]}\n' + extra, '',
    `listen: 127.0.0.1:${real}, public_addr: 127.0.0.1:${imp.port}${relayExtra}`);
  n.imp = imp;
  try {
    return await n.start();
  } catch (e) {
    imp.close();
    throw e;
  }
}

// lectern-load (bench/, our own WebRTC client): publishes and/or plays;
// resolves with its JSON report.  Killed with the other children.
export const LOAD = path.join(BUILD, 'bench', 'lectern-load');
export function load(args, timeoutMs = 90000) {
  return new Promise((resolve, reject) => {
    const p = spawn(LOAD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      children.delete(p);
      clearTimeout(t);
      if (code !== 0) reject(new Error(`lectern-load ${args.join(' ')} exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

// After a test file, even after a failure: its loads, then its nodes,
// their impairment relays and nats-servers (open sockets would keep the
// runner alive).
//
// Every node ends with SIGTERM and must exit cleanly (Node.finish()); the
// nodes are stopped together, then the nats-servers, and every failure is
// reported.  Call it after the clients (browsers, loads) are closed, so
// their sessions leave within the drain.
export async function teardown(procs) {
  for (const c of children) if (c.spawnargs?.[0] === LOAD) c.kill('SIGKILL');
  const nodes = [...new Set([...procs.filter((p) => p instanceof Node), ...startedNodes])];
  const results = await Promise.allSettled(nodes.map((n) => n.finish()));
  for (const p of procs) {
    if (!(p instanceof Node)) await p.stop?.('SIGKILL');
    p.imp?.close();
  }
  // Whatever else this file started and did not stop (a nats-server a
  // failed test never reached the end to stop): a child process keeps the
  // runner alive, and a failure must end the file, not hang it.
  for (const c of [...children]) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
    children.delete(c);
  }
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  if (failed.length) assert.fail(`nodes did not end cleanly:\n${failed.join('\n')}`);
}

// lectern-load's publisher sends its video in packets of at most 1100
// bytes every 10 ms: this many video packets a second at `bitrate`.
export const videoPps = (bitrate = 1500000) => Math.ceil(bitrate / 8 / 100 / 1100) * 100;

// Asserts a lectern-load report viewer by viewer, never on an aggregate
// that one silent viewer would hide: every viewer connected at the end,
// got at least `share` of the video packets the publisher sent during the
// window (r.sent_video when the publisher was this lectern-load's own), and never went `maxGapMs` without video (a gap still open when
// the window ended counts).
export function assertEveryViewer(r, { viewers, seconds, bitrate = 1500000, share = 0.9,
  maxGapMs = 500, what = 'viewers' }) {
  // What the publisher really sent in the window when it is this report's
  // own (its timer catches up when late, so this is the nominal rate on
  // an idle machine), else the nominal rate.
  const sent = r.sent_video || videoPps(bitrate) * seconds;
  const want = Math.floor(share * sent);
  const all = JSON.stringify(r.per_viewer);
  if (viewers !== undefined) assert.equal(r.per_viewer.length, viewers, `${what}: count`);
  assert.equal(r.never_connected, 0, `${what}: every connection came up: ${all}`);
  r.per_viewer.forEach((v, i) => {
    assert.ok(v.connected, `${what}: viewer ${i} is connected at the end: ${all}`);
    assert.ok(v.video >= want, `${what}: viewer ${i} got ${v.video} video packets, wants >= ${want}: ${all}`);
    assert.ok(v.gap_ms < maxGapMs, `${what}: viewer ${i} went ${v.gap_ms} ms without video (< ${maxGapMs}): ${all}`);
  });
}
