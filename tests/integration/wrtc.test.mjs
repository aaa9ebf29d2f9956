// Media through a second, independent WebRTC stack: libwebrtc (the npm
// package @roamhq/wrtc, a prebuilt binary), so the media tests do not only
// prove Lectern against its own client (lectern-load shares Lectern's
// DTLS, SRTP and SDP code).  Real processes, real sockets, loopback only:
// the nodes offer one host candidate, on 127.0.0.1 (ice.addresses), and,
// being ICE-lite, send no checks; libwebrtc gathers host candidates on
// loopback too and checks only the candidates in their answers, so no
// network namespace is needed (each viewer asserts its pair in use ends
// at 127.0.0.1).
//
//   - a wrtc publisher (synthetic 320x240 I420 video at 30 fps with a moving
//     bar, a 440 Hz tone in 10 ms chunks of 48 kHz audio) publishes over
//     WHIP; wrtc viewers (recvonly) play over WHEP at the origin, and at an
//     edge fed over a relay leg (a real nats-server);
//   - every viewer, on its own: connected at the end, decoded at least 70%
//     of the frames the publisher sent in the measured window, at the size
//     sent, with a picture that moves, never went 500 ms without a frame
//     (counted to the end of the window), and heard the tone;
//   - getStats: VP8, packets in; the node's /v1/sessions/<id> for each
//     viewer: the viewer's RTCP arrived (rtcp_in, a receiver report);
//   - an ICE restart by PATCH (RFC 9725 4.3.2): a new ETag, checks with
//     the new credentials succeed, no freeze, the old ETag is stale.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { Node, NatsServer, waitFor, sleep } from './lib.mjs';
import wrtc from '@roamhq/wrtc';

const { RTCPeerConnection, MediaStream } = wrtc;
const { RTCVideoSource, RTCVideoSink, RTCAudioSource, RTCAudioSink } = wrtc.nonstandard;

const procs = [];
const peers = []; // every publisher and viewer, closed after a failure too
after(async () => {
  for (const p of peers) p.close();
  await lib.teardown(procs);
});

// libwebrtc's native objects (a source's track above all) crash the
// process in their N-API finalizers when node frees its environment after
// the event loop ends (FATAL ERROR: v8::HandleScope::CreateHandle(), then
// SIGABRT or SIGSEGV; node-webrtc issue 636, still so in @roamhq/wrtc
// 0.10.0 on node 20).  By 'exit' every result is reported (stdout is a
// pipe: written synchronously) and lib.mjs's listener has killed the
// children: leave at once with the runner's code, skipping that cleanup.
process.on('exit', (code) => process.exit(code));

const ICE = 'ice: {addresses: [127.0.0.1]}\n';
const W = 320, H = 240, FPS = 30;
const BAR = 16; // the moving bar's width, in pixels
const NOISE_ROWS = 48;
const WINDOW_MS = 5000;
const SHARE = 0.7; // of the frames sent in the window, each viewer decodes at least this
const MAX_GAP_MS = 500;

// Every wait fails when it times out: non-trickle, so the offer carries
// every candidate.
async function gathered(pc, ms = 5000) {
  await waitFor(() => pc.iceGatheringState === 'complete', ms, 'ICE gathering to complete');
}

// POSTs the offer (again while the answer is 409: the stream is not live
// there yet), applies the 201 answer; returns the session's resource URL.
async function exchange(pc, url, ms = 10000) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  // Only 409 (not live there yet: Retry-After 2; a quarter of a second
  // here) is asked again, until the deadline; any other answer fails.
  let refused = 0, res;
  const t0 = Date.now();
  for (;;) {
    res = await fetch(url, { method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status === 201) break;
    const why = `${res.status} ${(await res.text()).trim()}`;
    assert.equal(res.status, 409, `${url} answered ${why}`);
    refused++;
    assert.ok(Date.now() - t0 < ms, `no 201 from ${url} within ${ms} ms: ${why} (${refused} times 409)`);
    await sleep(250);
  }
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  const location = new URL(res.headers.get('location'), url).href;
  // The node that answered holds the session (no steering 307 followed).
  assert.equal(new URL(location).origin, new URL(url).origin);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return { location, id: location.split('/').pop(), refused };
}

async function connected(pc, what, ms = 10000) {
  await waitFor(() => {
    if (pc.connectionState === 'failed') throw new Error(`${what}: connection failed`);
    return pc.connectionState === 'connected';
  }, ms, `${what} to connect`);
}

// The synthetic camera: a white bar moving 4 px a frame over a dark
// picture, and a band of fresh noise at the top (so that frames take
// several packets); each frame's send time is kept.
function camera() {
  const source = new RTCVideoSource();
  const frames = [];
  let seed = 1;
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; };
  for (let n = 0; n < (W - BAR) / 4; n++) {
    const data = new Uint8ClampedArray(W * H * 1.5);
    data.fill(40, 0, W * H);
    data.fill(128, W * H);
    for (let i = 0; i < W * NOISE_ROWS; i++) data[i] = 64 + (rnd() >> 1);
    const x0 = n * 4;
    for (let y = NOISE_ROWS; y < H; y++) data.fill(235, y * W + x0, y * W + x0 + BAR);
    frames.push(data);
  }
  const sent = [];
  const t0 = Date.now();
  let n = 0, timer;
  const tick = () => { // on schedule: the next frame at t0 + n / FPS, not 33 ms after this one
    source.onFrame({ width: W, height: H, data: frames[n % frames.length] });
    sent.push(Date.now());
    n++;
    timer = setTimeout(tick, Math.max(0, t0 + (n * 1000) / FPS - Date.now()));
  };
  tick();
  return { source, sent, stop: () => clearTimeout(timer) };
}

// The synthetic microphone: a 440 Hz tone, 10 ms of 48 kHz mono every 10 ms.
function microphone() {
  const source = new RTCAudioSource();
  const rate = 48000, chunk = rate / 100;
  const t0 = Date.now();
  let n = 0, timer;
  const tick = () => {
    const samples = new Int16Array(chunk);
    for (let i = 0; i < chunk; i++)
      samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * chunk + i)) / rate));
    source.onData({ samples, sampleRate: rate, bitsPerSample: 16, channelCount: 1, numberOfFrames: chunk });
    n++;
    timer = setTimeout(tick, Math.max(0, t0 + n * 10 - Date.now()));
  };
  tick();
  return { source, stop: () => clearTimeout(timer) };
}

// Publishes over WHIP at `node`.
async function publisher(node, stream) {
  const cam = camera(), mic = microphone();
  const video = cam.source.createTrack(), audio = mic.source.createTrack();
  const pc = new RTCPeerConnection();
  const media = new MediaStream([video, audio]);
  pc.addTransceiver(video, { direction: 'sendonly', streams: [media] });
  pc.addTransceiver(audio, { direction: 'sendonly', streams: [media] });
  const p = {
    pc, sent: cam.sent,
    close() {
      if (p.closed) return;
      p.closed = true;
      cam.stop(); mic.stop();
      video.stop(); audio.stop();
      pc.close();
    },
  };
  peers.push(p);
  Object.assign(p, await exchange(pc, `${node.url}/whip/${stream}`));
  await connected(pc, `the publisher of ${stream}`);
  return p;
}

// The bar's left edge in a decoded frame's middle row: its brightest 16 px.
function barAt(frame) {
  const row = frame.data.subarray((frame.height >> 1) * frame.width, ((frame.height >> 1) + 1) * frame.width);
  let best = -1, at = -1, sum = 0;
  for (let x = 0; x < row.length; x++) {
    sum += row[x];
    if (x >= BAR) sum -= row[x - BAR];
    if (x >= BAR - 1 && sum > best) { best = sum; at = x - BAR + 1; }
  }
  return at;
}

// Plays over WHEP at `node`: records the time, size and bar position of
// every decoded frame, and the 10 ms audio chunks that carry the tone.
async function viewer(node, stream, name) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const v = { name, pc, frames: [], sizes: new Set(), bars: [], audioChunks: 0, loudChunks: 0, sinks: [] };
  pc.ontrack = ({ track }) => {
    if (track.kind === 'video') {
      const sink = new RTCVideoSink(track);
      sink.onframe = ({ frame }) => {
        v.frames.push(Date.now());
        v.sizes.add(`${frame.width}x${frame.height}`);
        v.bars.push(barAt(frame));
      };
      v.sinks.push(sink);
    } else {
      const sink = new RTCAudioSink(track);
      sink.ondata = ({ samples }) => {
        v.audioChunks++;
        let peak = 0;
        for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
        if (peak > 2000) v.loudChunks++;
      };
      v.sinks.push(sink);
    }
  };
  v.close = () => {
    if (v.closed) return;
    v.closed = true;
    for (const s of v.sinks) s.stop();
    pc.close();
  };
  peers.push(v);
  Object.assign(v, await exchange(pc, `${node.url}/whep/${stream}`));
  v.node = node;
  return v;
}

// Waits for every viewer's first frame, measures a window, and asserts each
// viewer on its own.
async function measure(pub, viewers) {
  for (const v of viewers) await connected(v.pc, v.name);
  for (const v of viewers) await waitFor(() => v.frames.length > 0, 8000, `${v.name}'s first decoded frame`);
  const t0 = Date.now();
  const audio0 = viewers.map((v) => [v.audioChunks, v.loudChunks]);
  await sleep(WINDOW_MS);
  const t1 = Date.now();
  const sent = pub.sent.filter((t) => t >= t0 && t <= t1).length;
  const want = Math.floor(SHARE * sent);
  const out = [];
  for (const [i, v] of viewers.entries()) {
    const idx = [...v.frames.keys()].filter((k) => v.frames[k] >= t0 && v.frames[k] <= t1);
    let gap = 0, prev = t0;
    for (const k of idx) { gap = Math.max(gap, v.frames[k] - prev); prev = v.frames[k]; }
    gap = Math.max(gap, t1 - prev); // a viewer that stopped decoding has its longest gap at the end
    const bars = new Set(idx.map((k) => v.bars[k])).size;
    const r = { viewer: v.name, state: v.pc.connectionState, frames: idx.length, sent, gap_ms: gap,
      sizes: [...v.sizes], bar_positions: bars, audio_chunks: v.audioChunks - audio0[i][0],
      loud_audio_ms: (v.loudChunks - audio0[i][1]) * 10 };
    out.push(r);
    console.log(`# ${JSON.stringify(r)}`);
  }
  for (const r of out) {
    const all = JSON.stringify(r);
    assert.equal(r.state, 'connected', `${r.viewer} is connected at the end: ${all}`);
    assert.ok(r.frames >= want,
      `${r.viewer} decoded ${r.frames} frames, wants >= ${want} (${SHARE} of ${sent}): ${all}`);
    assert.ok(r.gap_ms < MAX_GAP_MS,
      `${r.viewer} went ${r.gap_ms} ms without a frame (< ${MAX_GAP_MS}): ${all}`);
    assert.deepEqual(r.sizes, [`${W}x${H}`], `${r.viewer} decoded what was sent: ${all}`);
    assert.ok(r.bar_positions >= 20, `${r.viewer}'s picture moves: ${all}`);
    assert.ok(r.loud_audio_ms >= WINDOW_MS / 2, `${r.viewer} heard the tone: ${all}`);
  }
}

// getStats at the viewer, /v1/sessions/<id> at its node: the codec, media
// in, and the viewer's RTCP (receiver reports) at the node.
async function checkStats(v) {
  const report = await v.pc.getStats();
  const codecs = {}, inbound = {};
  report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  report.forEach((s) => { if (s.type === 'inbound-rtp') inbound[s.kind] = s; });
  assert.equal(codecs[inbound.video?.codecId], 'video/VP8', `${v.name}: the default codec`);
  assert.equal(codecs[inbound.audio?.codecId], 'audio/opus', `${v.name}: audio`);
  assert.ok(inbound.video.packetsReceived > 0 && inbound.audio.packetsReceived > 0, `${v.name}: packets in`);
  // The pair in use: the node's only candidate, on loopback.
  const pair = [...report.values()].find((s) => s.type === 'candidate-pair' && s.nominated &&
    s.state === 'succeeded');
  const remote = pair && report.get(pair.remoteCandidateId);
  assert.equal(remote?.address ?? remote?.ip, '127.0.0.1', `${v.name}: ICE on loopback`);
  const { status, body } = await v.node.get(`/v1/sessions/${v.id}`);
  console.log(`# ${v.name}: inbound video ${inbound.video.packetsReceived} packets, ` +
    `${inbound.video.framesDecoded} frames, ${inbound.video.nackCount} NACKs; ` +
    `at ${v.node.id}: ${JSON.stringify(body)}`);
  assert.equal(status, 200);
  assert.equal(body.kind, 'viewer');
  assert.equal(body.connected, true);
  assert.ok(body.video_packets > 0 && body.audio_packets > 0,
    `${v.name}: the node sent media: ${JSON.stringify(body)}`);
  assert.ok(body.rtcp_in > 0, `${v.name}: its RTCP reached the node: ${JSON.stringify(body)}`);
  assert.ok(body.reported, `${v.name}: the node read its receiver reports: ${JSON.stringify(body)}`);
}

// An ICE restart as RFC 9725 4.3.2 has it: the client's new credentials by
// PATCH (If-Match: "*"), the node's new ones in the 200; returns the new
// ETag.  Lectern is ICE-lite: the client's checks carry the restart.
async function restartIce(p) {
  const offer = await p.pc.createOffer({ iceRestart: true });
  await p.pc.setLocalDescription(offer);
  const uf = /a=ice-ufrag:(\S+)/.exec(offer.sdp)[1], pw = /a=ice-pwd:(\S+)/.exec(offer.sdp)[1];
  const r = await fetch(p.location, { method: 'PATCH', body: `a=ice-ufrag:${uf}\r\na=ice-pwd:${pw}\r\n`,
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' } });
  const frag = await r.text();
  assert.equal(r.status, 200, frag);
  assert.equal(r.headers.get('content-type'), 'application/trickle-ice-sdpfrag');
  const nuf = /a=ice-ufrag:(\S+)/.exec(frag)[1], npw = /a=ice-pwd:(\S+)/.exec(frag)[1];
  const old = p.pc.remoteDescription.sdp;
  assert.doesNotMatch(old, new RegExp(`a=ice-ufrag:${nuf}`), 'new credentials');
  await p.pc.setRemoteDescription({ type: 'answer',
    sdp: old.replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${nuf}`).replace(/a=ice-pwd:\S+/g, `a=ice-pwd:${npw}`) });
  return r.headers.get('etag');
}

// The ids of the candidate pairs whose checks succeeded.
async function succeededPairs(pc) {
  const ids = new Set();
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.responsesReceived > 0) ids.add(s.id);
  });
  return ids;
}

// Ends a session by its resource URL (RFC 9725), then closes the peer
// (closing first would send a DTLS close_notify, which ends it too).
async function leave(p) {
  const r = await fetch(p.location, { method: 'DELETE' });
  assert.equal(r.status, 200, `DELETE ${p.location}`);
  p.close();
}

test('libwebrtc publishes over WHIP and plays over WHEP at the origin', async () => {
  const origin = new Node('origin', 'origin-wrtc', 'eu-central-1', null, ICE);
  procs.push(origin);
  await origin.start();
  const pub = await publisher(origin, 'wclass');
  const viewers = [];
  for (let i = 0; i < 2; i++) viewers.push(await viewer(origin, 'wclass', `origin viewer ${i}`));
  await waitFor(async () => (await origin.get('/v1/streams/wclass')).body.viewers === 2, 5000,
    'the origin to count two viewers');
  await measure(pub, viewers);
  for (const v of viewers) await checkStats(v);
  // An ICE restart on a viewer: new checks succeed with the new
  // credentials, and its picture never stops.
  const v0 = viewers[0], pairs0 = await succeededPairs(v0.pc), frames0 = v0.frames.length;
  const etag = await restartIce(v0);
  assert.equal(etag, `"${v0.id}-1"`, 'a new ETag');
  await waitFor(async () => [...(await succeededPairs(v0.pc))].some((id) => !pairs0.has(id)), 8000,
    'checks with the new credentials to succeed');
  const t1 = Date.now();
  await sleep(1500);
  const gap = Math.max(...v0.frames.slice(frames0).map((t, i, a) => (i ? t - a[i - 1] : 0)));
  console.log(`# ICE restart: new pair up, ${v0.frames.length - frames0} frames since, longest gap ${gap} ms`);
  assert.ok(v0.frames.some((t) => t > t1 + 1000), 'frames keep coming after the restart');
  assert.ok(gap < MAX_GAP_MS, `no freeze across the restart (${gap} ms)`);
  assert.equal(v0.pc.connectionState, 'connected');
  const stale = await fetch(v0.location, { method: 'PATCH', body: 'a=end-of-candidates\r\n',
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': `"${v0.id}"` } });
  assert.equal(stale.status, 412, 'the old ETag is stale');
  let out;
  (await pub.pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') out = s; });
  const { body: ps } = await origin.get(`/v1/sessions/${pub.id}`);
  // No transport-cc or REMB from the node (README: not yet): libwebrtc
  // stays near its start rate.
  console.log(`# publisher: ${out.framesEncoded} frames (${out.keyFramesEncoded} key), ${out.packetsSent} ` +
    `packets, ${Math.round((8 * out.bytesSent) / ps.age_ms)} kbps, limited by ${out.qualityLimitationReason}; ` +
    `at the origin: ${JSON.stringify(ps)}`);
  assert.equal(ps.kind, 'publisher');
  assert.ok(ps.rtp_in > 0 && ps.srtp_failures === 0, JSON.stringify(ps));
  for (const v of viewers) await leave(v);
  await leave(pub);
  await waitFor(async () => (await origin.get('/v1/streams')).body.sessions.length === 0, 5000,
    'no sessions left at the origin');
});

test('libwebrtc plays at an edge fed over a relay leg', async () => {
  const nats = await NatsServer.start();
  procs.push(nats);
  const origin = new Node('origin', 'origin-wrtc2', 'eu-central-1', nats.url, ICE);
  const edge = new Node('edge', 'edge-wrtc', 'us-east-1', nats.url, ICE);
  procs.push(origin, edge);
  await origin.start();
  await edge.start();
  for (const n of [origin, edge])
    await waitFor(async () => (await n.ids()).length === 2, 8000, `${n.id} to see the cluster`);
  const pub = await publisher(origin, 'wedge');
  const viewers = [];
  for (let i = 0; i < 2; i++) viewers.push(await viewer(edge, 'wedge', `edge viewer ${i}`));
  await waitFor(async () => {
    const { body } = await edge.get('/v1/cluster');
    return body.nodes.find((n) => n.id === edge.id)?.streams?.find((s) => s.stream === 'wedge')?.depth === 1;
  }, 5000, 'the edge to hold the stream one leg from the origin');
  assert.equal((await origin.get('/v1/streams/wedge')).body.viewers, 0, 'nobody plays at the origin');
  await measure(pub, viewers);
  for (const v of viewers) await checkStats(v);
  console.log(`# at the edge, the first offer was refused (409) ${viewers[0].refused} time(s)`);
  for (const v of viewers) await leave(v);
  await leave(pub);
  // The teacher left: the end reaches the edge over the leg.
  await waitFor(async () => !(await edge.get('/v1/streams/wedge')).body.live, 5000,
    'the stream to end at the edge');
  assert.equal((await edge.get('/v1/streams')).body.sessions.length, 0);
  await nats.stop();
});
