// A user-space UDP impairment relay (the kernel here has no netem): listens
// on a loopback port and forwards every datagram to one loopback target,
// dropping `loss` of them (seeded, so runs repeat) and holding the rest for
// `delayMs` plus up to `jitterMs`.  One per direction of a path; a node's
// relay.public_addr points at the one in front of its relay socket, so
// every leg to that node crosses it.
import dgram from 'node:dgram';

export async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

export class Impair {
  constructor({ target, loss = 0, delayMs = 0, jitterMs = 0, seed = 1 }) {
    if (!/^127\./.test(target.host)) throw new Error('impair: loopback targets only');
    this.target = target;
    this.set({ loss, delayMs, jitterMs });
    this.rng = seed >>> 0 || 1;
    this.stats = { in: 0, dropped: 0, out: 0 };
    this.pending = new Set();
  }
  set({ loss = 0, delayMs = 0, jitterMs = 0 }) {
    this.loss = loss; this.delayMs = delayMs; this.jitterMs = jitterMs;
  }
  random() { // xorshift32: deterministic per seed
    let x = this.rng;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.rng = x;
    return x / 0x100000000;
  }
  async start(port = 0) {
    this.sock = dgram.createSocket('udp4');
    this.sock.on('message', (msg) => {
      this.stats.in++;
      if (this.random() < this.loss) { this.stats.dropped++; return; }
      const wait = this.delayMs + this.random() * this.jitterMs;
      const send = () => {
        this.stats.out++;
        this.sock.send(msg, this.target.port, this.target.host);
      };
      if (wait <= 0) { send(); return; }
      const t = setTimeout(() => { this.pending.delete(t); send(); }, wait);
      this.pending.add(t);
    });
    await new Promise((r) => this.sock.bind(port, '127.0.0.1', r));
    this.port = this.sock.address().port;
    return this;
  }
  close() {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    try { this.sock.close(); } catch {}
  }
}

// A two-way UDP path to a loopback target, like a NAT: a client talks to
// `port`; the proxy forwards from a socket of its own to the target and
// sends the target's answers back to the client, dropping `lossDown` of
// them (seeded).  For a browser's media path: the test puts the proxy's
// port in the server's ICE candidate, so what the server sends the
// viewer crosses a lossy link (the server is ICE-lite and answers checks
// where they come from).
export class UdpProxy {
  constructor({ target, lossDown = 0, seed = 7 }) {
    if (!/^127\./.test(target.host)) throw new Error('proxy: loopback targets only');
    this.target = target;
    this.lossDown = lossDown;
    this.rng = seed >>> 0 || 1;
    this.stats = { up: 0, down: 0, dropped: 0 };
  }
  random() {
    let x = this.rng;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.rng = x;
    return x / 0x100000000;
  }
  async start() {
    this.front = dgram.createSocket('udp4');
    this.back = dgram.createSocket('udp4');
    this.front.on('message', (msg, rinfo) => {
      this.client = rinfo;
      this.stats.up++;
      this.back.send(msg, this.target.port, this.target.host);
    });
    this.back.on('message', (msg) => {
      if (!this.client) return;
      if (this.random() < this.lossDown) { this.stats.dropped++; return; }
      this.stats.down++;
      this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise((r) => this.front.bind(0, '127.0.0.1', r));
    await new Promise((r) => this.back.bind(0, '127.0.0.1', r));
    this.port = this.front.address().port;
    return this;
  }
  close() {
    try { this.front.close(); } catch {}
    try { this.back.close(); } catch {}
  }
}
