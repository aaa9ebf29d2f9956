// Lectern's browser side: WHIP (publish) and WHEP (play) clients (RFC 9725).
// Plain ES module, no build step; served at /static/lectern.js.

// Waits until ICE gathering completes (our server is ICE-lite and needs no
// trickle: one offer with every candidate is simplest and fastest).
function gathered(pc, timeoutMs = 2000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener('icegatheringstatechange', check); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    pc.addEventListener('icegatheringstatechange', check);
    setTimeout(done, timeoutMs);
  });
}

// The classroom channel (issue 18): one data channel labelled 'lectern'
// carrying JSON objects with a `type`.  Each message received is kept
// (the last 200, with `at`: performance.now() when it came) and
// dispatched as an event of its type and as 'message'.
export function classroom(pc) {
  const dc = pc.createDataChannel('lectern');
  const ch = new EventTarget();
  ch.dc = dc;
  ch.messages = [];
  ch.opened = new Promise((resolve) => { dc.onopen = () => resolve(true); dc.onclose = () => resolve(false); });
  dc.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    if (!m || typeof m.type !== 'string') return;
    m.at = performance.now();
    ch.messages.push(m);
    if (ch.messages.length > 200) ch.messages.shift();
    ch.dispatchEvent(new CustomEvent(m.type, { detail: m }));
    ch.dispatchEvent(new CustomEvent('message', { detail: m }));
  };
  ch.send = (obj) => {
    if (dc.readyState !== 'open') return false;
    dc.send(JSON.stringify(obj));
    return true;
  };
  return ch;
}

export class HttpError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// POSTs our offer; returns the Location of the session and sets the answer.
async function exchange(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
  if (res.status !== 201) {
    let msg = `${res.status}`;
    try { msg = (await res.json()).error || msg; } catch { /* not JSON */ }
    throw new HttpError(res.status, msg, Number(res.headers.get('Retry-After') || 0));
  }
  // After a steering 307 the session lives on another node: resolve the
  // session URL against where the answer came from, not this page.
  const location = new URL(res.headers.get('Location'), res.url).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return location;
}

// Simulcast (RFC 8853): three sizes of the picture, so each student gets
// the one their link carries.  Listed smallest first, as the node ranks
// them until it has measured them.
export const LAYERS = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000 },
  { rid: 'h', maxBitrate: 2500000 },
];

// hint: what the encoder keeps when the uplink is short ('detail': the
// picture's sharpness, for slides and whiteboards, by dropping frames;
// 'motion': the frame rate, by lowering resolution).  simulcast: send
// LAYERS instead of one stream.
export async function publish({ stream, token, media, codec, hint = 'detail', simulcast = false,
  channel = true }) {
  const pc = new RTCPeerConnection();
  const ch = channel ? classroom(pc) : null;
  for (const track of media.getVideoTracks()) track.contentHint = hint;
  for (const track of media.getTracks()) {
    const init = { direction: 'sendonly', streams: [media] };
    if (simulcast && track.kind === 'video') init.sendEncodings = LAYERS.map((l) => ({ ...l }));
    const tr = pc.addTransceiver(track, init);
    if (track.kind === 'video' && codec && RTCRtpSender.getCapabilities) {
      const all = RTCRtpSender.getCapabilities('video').codecs;
      const want = all.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}` &&
        (codec !== 'H264' || /packetization-mode=1/.test(c.sdpFmtpLine || '')));
      if (want.length) tr.setCodecPreferences([...want, ...all.filter((c) => !want.includes(c))]);
    }
  }
  const location = await exchange(pc, `/whip/${encodeURIComponent(stream)}`, token);
  return { pc, location, channel: ch, stop: async () => { pc.close(); await fetch(location, { method: 'DELETE' }); } };
}

// region: a hint for steering ("us-east-1"); the cluster may send the
// offer on to a nearer node with a 307, which fetch follows.
export async function play({ stream, token, region, channel = true }) {
  const pc = new RTCPeerConnection();
  const ch = channel ? classroom(pc) : null;
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const media = new MediaStream();
  pc.ontrack = (e) => media.addTrack(e.track);
  const hint = region ? `?region=${encodeURIComponent(region)}` : '';
  const location = await exchange(pc, `/whep/${encodeURIComponent(stream)}${hint}`, token);
  // A section the node could not serve (our browser lacks the teacher's
  // codec): its session says why, and the page shows it.
  let notServed = '';
  if (/^m=(video|audio) 0 /m.test(pc.remoteDescription.sdp)) {
    const u = new URL(location);
    const r = await fetch(`${u.origin}/v1/sessions/${u.pathname.split('/').pop()}`).catch(() => null);
    if (r && r.ok) notServed = (await r.json()).not_served || '';
  }
  return { pc, media, location, notServed, channel: ch,
    stop: async () => { pc.close(); await fetch(location, { method: 'DELETE' }); } };
}

// A session's own numbers (GET /v1/sessions/<id> on the node serving it).
export async function session(location) {
  const u = new URL(location);
  const r = await fetch(`${u.origin}/v1/sessions/${u.pathname.split('/').pop()}`);
  if (!r.ok) throw new HttpError(r.status, `${r.status}`);
  return r.json();
}

// A viewer pins a simulcast layer: 'auto', 'low', 'medium' or 'high'.
export async function setLayer(location, layer) {
  const u = new URL(location);
  const r = await fetch(`${u.origin}/v1/sessions/${u.pathname.split('/').pop()}/layer`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ layer }) });
  if (r.status !== 204) throw new HttpError(r.status, `${r.status}`);
}

// A few numbers from getStats for the pages and the tests.
export async function stats(pc) {
  const out = { framesDecoded: 0, framesEncoded: 0, audioPackets: 0, videoPackets: 0,
    width: 0, height: 0, fps: 0, bytesSent: 0, bytesReceived: 0, dtlsState: '', srtpCipher: '',
    freezeCount: 0, codec: '', nacksSent: 0, retransmitsReceived: 0,
    targetBitrate: 0, qualityLimitationReason: '', availableOutgoingBitrate: 0,
    rttMs: 0, bufferMs: 0 };
  const report = await pc.getStats();
  const codecs = {};
  report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.framesDecoded = s.framesDecoded || 0;
      out.videoPackets = s.packetsReceived || 0;
      out.width = s.frameWidth || 0;
      out.height = s.frameHeight || 0;
      out.fps = s.framesPerSecond || 0;
      out.freezeCount = s.freezeCount || 0;
      out.nacksSent = s.nackCount || 0;
      out.retransmitsReceived = s.retransmittedPacketsReceived || 0;
      out.bytesReceived += s.bytesReceived || 0;
      out.codec = codecs[s.codecId] || out.codec;
      // The jitter buffer's hold per frame: the player's share of the delay.
      if (s.jitterBufferEmittedCount) out.bufferMs = (1000 * s.jitterBufferDelay) / s.jitterBufferEmittedCount;
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audioPackets = s.packetsReceived || 0;
      out.bytesReceived += s.bytesReceived || 0;
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.framesEncoded = s.framesEncoded || 0;
      out.width = s.frameWidth || out.width;
      out.height = s.frameHeight || out.height;
      out.fps = s.framesPerSecond || out.fps;
      out.bytesSent += s.bytesSent || 0;
      out.codec = codecs[s.codecId] || out.codec;
      out.targetBitrate += s.targetBitrate || 0;
      out.qualityLimitationReason = s.qualityLimitationReason || out.qualityLimitationReason;
    } else if (s.type === 'candidate-pair' && s.nominated) {
      out.availableOutgoingBitrate = s.availableOutgoingBitrate || out.availableOutgoingBitrate;
      out.rttMs = 1000 * (s.currentRoundTripTime || 0) || out.rttMs;
    } else if (s.type === 'outbound-rtp') {
      out.bytesSent += s.bytesSent || 0;
    } else if (s.type === 'transport') {
      out.dtlsState = s.dtlsState || '';
      out.srtpCipher = s.srtpCipher || '';
    }
  });
  return out;
}
