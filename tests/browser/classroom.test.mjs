// The classroom channel (issue 18): headless Chromium teacher and students
// on a real lectern-origin, each page with its `lectern` data channel
// (SCTP over the session's DTLS).
//
//   - the teacher's and each student's channel open and say who they are
//     (welcome, with the session id and role); a ping comes back as pong;
//   - GET /v1/sessions/<id> shows the channel open and its counts;
//   - a student without a data channel plays as before, and its session
//     has no data_channel;
//   - a hostile student: a channel of another label is closed at once;
//     an oversized message and a flood of 300 are dropped and counted on
//     its session alone, while a good student's channel answers and its
//     video keeps decoding.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Node, waitFor, sleep } from '../integration/lib.mjs';
import { launch } from './lib.mjs';

let browser;
const nodes = [];
after(async () => {
  await browser?.close().catch(() => {});
  for (const n of nodes) await n.stop('SIGKILL').catch(() => {});
});

async function newPage() {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon|404|409/.test(m.text())) console.log(`  [page] ${m.text()}`);
  });
  return page;
}

const sessionOf = async (node, page) => {
  const loc = await page.evaluate(() => window.lectern.session?.location);
  return (await fetch(`${node.url}/v1/sessions/${loc.split('/').pop()}`)).json();
};
const frames = (page) => page.evaluate(async () => {
  const s = window.lectern.session;
  if (!s) return 0;
  const { stats } = await import('/static/lectern.js');
  return (await stats(s.pc)).framesDecoded;
});
// The first message of `type` the page's channel got, or null.
const got = (page, type) => page.evaluate((t) =>
  window.lectern.channel?.messages.find((m) => m.type === t) || null, type);

test('the lectern data channel on WHIP and WHEP sessions', { timeout: 180000 }, async () => {
  browser = await launch();
  const origin = new Node('origin', 'origin-class', 'eu-central-1', null, 'ice: {addresses: [127.0.0.1]}\n');
  nodes.push(origin);
  await origin.start();

  const teacher = await newPage();
  await teacher.goto(`${origin.url}/publish?stream=class&codec=VP8&simulcast=0`);
  await teacher.evaluate(() => window.lectern.start());
  await waitFor(() => teacher.evaluate(() => window.lectern.state === 'live'), 10000, 'the teacher to go live');
  await waitFor(() => got(teacher, 'welcome'), 5000, "the teacher's welcome");
  const tw = await got(teacher, 'welcome');
  assert.equal(tw.role, 'teacher');
  assert.equal(tw.stream, 'class');

  const good = await newPage();
  await good.goto(`${origin.url}/watch/class`);
  await waitFor(async () => (await frames(good)) > 0, 15000, 'the good student to decode');
  await waitFor(() => got(good, 'welcome'), 5000, "the student's welcome");
  const sw = await got(good, 'welcome');
  assert.equal(sw.role, 'student');
  const loc = await good.evaluate(() => window.lectern.session.location);
  assert.equal(sw.session, loc.split('/').pop(), 'the welcome names the session');
  await good.evaluate(() => window.lectern.channel.send({ type: 'ping', t: 42.5 }));
  await waitFor(() => got(good, 'pong'), 3000, 'the pong');
  assert.equal((await got(good, 'pong')).t, 42.5);
  let gs = await sessionOf(origin, good);
  console.log(`  student's channel: ${JSON.stringify(gs.data_channel)}`);
  assert.equal(gs.data_channel?.open, true);
  assert.ok(gs.data_channel.messages_in >= 1 && gs.data_channel.messages_out >= 2, JSON.stringify(gs.data_channel));
  assert.equal(gs.data_channel.refused, 0);

  // Without a data channel: plays as before, no data_channel in its session.
  const plain = await newPage();
  await plain.goto(`${origin.url}/static/lectern.js`);
  await plain.evaluate(async () => {
    const { play } = await import('/static/lectern.js');
    window.lectern = { session: await play({ stream: 'class', channel: false }) };
  });
  await waitFor(async () => (await frames(plain)) > 0, 15000, 'the student without a channel to decode');
  const ps = await sessionOf(origin, plain);
  assert.equal(ps.connected, true);
  assert.equal(ps.data_channel, undefined, 'no data channel negotiated');
  const sdp = await plain.evaluate(() => window.lectern.session.pc.remoteDescription.sdp);
  assert.ok(!/m=application/.test(sdp), 'no application section answered to an offer without one');

  // A hostile student.
  const bad = await newPage();
  await bad.goto(`${origin.url}/watch/class`);
  await waitFor(() => got(bad, 'welcome'), 15000, "the hostile student's welcome");
  const closedChat = await bad.evaluate(() => new Promise((resolve) => {
    const pc = window.lectern.session.pc;
    const dc = pc.createDataChannel('chat');
    const t = setTimeout(() => resolve(false), 5000);
    dc.onclose = () => { clearTimeout(t); resolve(true); };
  }));
  assert.ok(closedChat, 'a channel of another label is closed by the node');
  const sent = await bad.evaluate(() => {
    const ch = window.lectern.channel;
    ch.dc.send('x'.repeat(5000)); // past what a student may send (4096)
    ch.dc.send('not json');
    ch.dc.send(JSON.stringify({ no: 'type' }));
    let n = 0;
    for (let i = 0; i < 300; i++) n += ch.send({ type: 'ping', t: i }) ? 1 : 0;
    return n;
  });
  assert.equal(sent, 300);
  await sleep(1500);
  const bs = await sessionOf(origin, bad);
  console.log(`  hostile student's channel: ${JSON.stringify(bs.data_channel)}`);
  assert.ok(bs.data_channel.refused >= 280, `refused ${bs.data_channel.refused} of 303`);
  const pongs = await bad.evaluate(() => window.lectern.channel.messages.filter((m) => m.type === 'pong').length);
  assert.ok(pongs <= 25, `${pongs} pongs: at most the burst`);
  // The good student is untouched.
  const before = await frames(good);
  await good.evaluate(() => window.lectern.channel.send({ type: 'ping', t: 7 }));
  await waitFor(() => good.evaluate(() => window.lectern.channel.messages.some((m) => m.type === 'pong' && m.t === 7)),
    3000, "the good student's second pong");
  await sleep(1000);
  assert.ok((await frames(good)) > before + 5, 'the good student keeps decoding');
  gs = await sessionOf(origin, good);
  assert.equal(gs.data_channel.refused, 0);
  assert.equal(gs.data_channel.open, true);
});
