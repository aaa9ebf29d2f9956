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
import * as lib from '../integration/lib.mjs';
import { Node, waitFor, sleep } from '../integration/lib.mjs';
import { launch, armAnswer, sanitized } from './lib.mjs';

let browser;
const nodes = [];
after(async () => {
  await browser?.close().catch(() => {});
  await lib.teardown(nodes);
});

const contexts = [];
async function closeAll() {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
}

async function newPage() {
  const ctx = await browser.newContext();
  contexts.push(ctx);
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
  await closeAll(); // the next test's timing wants the CPU
  await origin.finish();
});

test('a quiz at one node: released together, answered, ranked; questions and replies', { timeout: 180000 }, async () => {
  browser ??= await launch();
  const origin = new Node('origin', 'origin-quiz', 'eu-central-1', null, 'ice: {addresses: [127.0.0.1]}\n');
  nodes.push(origin);
  await origin.start();
  const teacher = await newPage();
  // 360p: five Chromiums share two cores; the pages' timers and frames
  // must not wait on video decoding.
  await teacher.goto(`${origin.url}/publish?stream=quiz&codec=VP8&simulcast=0&res=640x360`);
  await teacher.evaluate(() => window.lectern.start());
  await waitFor(() => got(teacher, 'welcome'), 10000, "the teacher's channel");
  const students = [];
  for (let i = 0; i < 3; i++) {
    const p = await newPage();
    await p.goto(`${origin.url}/watch/quiz`);
    students.push(p);
  }
  for (const p of students) await waitFor(() => got(p, 'welcome'), 15000, "a student's channel");
  // The studio: the devices listed, the microphone's level moving (the
  // fake mic beeps); a student's badge: picture height and delay.
  await waitFor(() => teacher.evaluate(() => window.lectern.level > 0.01), 5000, 'the mic level meter to move');
  assert.ok(await teacher.evaluate(() => document.querySelectorAll('#cam option').length >= 2), 'cameras listed');
  assert.ok(await teacher.evaluate(() => document.querySelectorAll('#mic option').length >= 2), 'mics listed');
  await waitFor(() => students[0].evaluate(() => /^\d+p · ≈\d+ ms$/.test(document.getElementById('badge').textContent)),
    5000, "the student's quality and delay badge");

  // The teacher's API: 201 with an id; a bad quiz is 400 with why.
  const bad = await fetch(`${origin.url}/v1/streams/quiz/quiz`, { method: 'POST',
    body: JSON.stringify({ question: 'q', options: ['a'], answer: 0 }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /options/);
  const delays = [700, 300, 500];
  const options = [1, 1, 0];
  const armed = students.map((p, i) => armAnswer(p, options[i], delays[i]));
  const res = await fetch(`${origin.url}/v1/streams/quiz/quiz`, { method: 'POST',
    body: JSON.stringify({ question: 'What is 2+2?', options: ['3', '4', '5'], answer: 1, open_ms: 4000 }) });
  assert.equal(res.status, 201);
  const { id } = await res.json();
  assert.match(id, /^[0-9a-f]{16}$/);
  const seen = await Promise.all(armed);
  const shown = seen.map((s) => s.shownWall);
  const spread = Math.max(...shown) - Math.min(...shown);
  console.log(`  one node: shown within ${spread.toFixed(1)} ms; reactions ${seen.map((s) => s.reaction.toFixed(1)).join(', ')}; ` +
    `main threads busy ${seen.map((s) => `${s.stallMs.toFixed(0)}/${s.stallAfterMs.toFixed(0)}`).join(', ')} ms before/after the show`);
  // Within 50 ms; a page later than that only when its own main thread
  // was busy long enough to explain it (quiz.test.mjs does the same).
  for (const s of seen) {
    const late = s.shownWall - Math.min(...shown);
    assert.ok(late < 50 || s.stallMs >= late - 30,
      `display ${late.toFixed(1)} ms after the first (< 50), its main thread busy only ${s.stallMs.toFixed(0)} ms`);
  }
  for (const s of seen) assert.equal(s.id, id);
  // A second answer is refused, and the page is told.
  await students[0].evaluate((qid) => window.lectern.channel.send({ type: 'answer', id: qid, option: 2 }), id);
  await waitFor(() => students[0].evaluate(() => window.lectern.channel.messages.some((m) => m.type === 'error' && /already/.test(m.error))),
    3000, 'the repeat refused');
  await sleep(300);
  const rk = await (await fetch(`${origin.url}/v1/streams/quiz/quiz/${id}`)).json();
  console.log(`  ranking: ${JSON.stringify(rk.ranking.map((a) => [a.right, a.reaction_ms, a.claimed_ms, a.elapsed_ms, a.rtt_ms, a.adjusted]))}`);
  assert.equal(rk.ranking.length, 3);
  const me = await Promise.all(students.map((p) => p.evaluate(() => window.lectern.me)));
  // Right answers first, by reaction: student 1 (300 ms), student 0 (700 ms); then student 2.
  assert.deepEqual(rk.ranking.map((a) => a.session), [me[1], me[0], me[2]]);
  assert.deepEqual(rk.ranking.map((a) => a.right), [true, true, false]);
  // Each ranked reaction is what that student's page measured (the
  // scripted delay, plus its timer's lateness), within 20 ms; and the
  // node's own view (elapsed less the round trip) agrees within its slack.
  // A page whose answer reached the node later than that slack allows (a
  // renderer stalled a few hundred ms on two busy cores: seen once) is
  // ranked at the node's bound instead, exactly, and says so (adjusted):
  // the node cannot tell it from a page that claims too little.  The
  // release pass's pages are fast enough that it never happens there
  // (asserted); under the sanitizers, at most one of the three, and only
  // a page whose main thread stalled after the show.
  let adjusted = 0;
  rk.ranking.forEach((a, i) => {
    const page = seen[[1, 0, 2][i]];
    const bound = a.elapsed_ms - a.rtt_ms - 150;
    assert.ok(page.reaction >= delays[[1, 0, 2][i]], 'no earlier than scripted');
    assert.ok(a.reaction_ms <= a.elapsed_ms && a.reaction_ms >= bound - 0.5, JSON.stringify(a));
    if (a.adjusted) {
      adjusted++;
      console.log(`  adjusted: the page measured ${page.reaction} ms, its answer came ${(a.elapsed_ms - page.reaction).toFixed(1)} ms after the release: ranked at the bound, ${a.reaction_ms} ms`);
      assert.ok(page.reaction < bound && Math.abs(a.reaction_ms - bound) < 1, JSON.stringify(a));
      assert.ok(sanitized, `an honest student ranked at the bound in the release pass (its main thread busy ${page.stallAfterMs} ms after the show)`);
      assert.ok(page.stallAfterMs >= 100, `adjusted without a stall of its page (${page.stallAfterMs} ms)`);
    } else {
      assert.ok(Math.abs(a.reaction_ms - page.reaction) < 20, `reaction ${a.reaction_ms} ms, the page measured ${page.reaction}`);
    }
    assert.equal(a.region, 'eu-central-1');
    assert.equal(a.node, 'origin-quiz');
  });
  assert.ok(adjusted <= 1, `${adjusted} honest students adjusted`);
  // The close: every student gets the result; the fastest right one is told.
  await waitFor(() => Promise.all(students.map((p) => got(p, 'quiz_result'))).then((r) => r.every(Boolean)),
    8000, 'the result at every student');
  assert.match(await students[1].evaluate(() => document.getElementById('quiz-res').textContent), /number 1/);
  const result = await got(students[2], 'quiz_result');
  assert.equal(result.answer, 1);
  assert.equal(result.winners[0].tag, me[1].slice(0, 8));
  assert.ok(!JSON.stringify(result).includes(me[1]), 'no student learns another one\'s session id');
  assert.equal(await teacher.evaluate(() => document.querySelectorAll('#ranking tr').length), 3);

  // Questions: text stays text on the teacher's page; a reply reaches all.
  await students[0].evaluate(() => { document.getElementById('ask').value = '<b>why 4?</b>'; document.getElementById('ask-send').click(); });
  await waitFor(() => got(teacher, 'ask'), 3000, 'the ask at the teacher');
  const li = await teacher.evaluate(() => ({ text: document.querySelector('#asks li').textContent,
    bold: document.querySelectorAll('#asks b').length }));
  assert.match(li.text, /<b>why 4\?<\/b>/);
  assert.equal(li.bold, 0, 'no HTML rendered');
  await students[2].evaluate(() => document.getElementById('hand').click());
  await waitFor(() => teacher.evaluate(() => /1 hand/.test(document.getElementById('hands').textContent)), 3000, 'a raised hand');
  await teacher.evaluate(() => window.lectern.channel.send({ type: 'reply', question: 'why 4?', text: 'two and two' }));
  for (const p of students)
    await waitFor(() => p.evaluate(() => /two and two/.test(document.getElementById('replies').textContent)), 3000, 'the reply');
  // Blocked: that student's next question never reaches the teacher.
  const asker = (await got(teacher, 'ask')).session;
  await teacher.evaluate((s) => window.lectern.channel.send({ type: 'block', session: s }), asker);
  await sleep(6000); // past the ask budget
  await students[0].evaluate(() => window.lectern.channel.send({ type: 'ask', text: 'again' }));
  await students[1].evaluate(() => window.lectern.channel.send({ type: 'ask', text: 'other' }));
  await waitFor(() => teacher.evaluate(() => window.lectern.asks.some((a) => a.text === 'other')), 3000, 'the other ask');
  assert.ok(!(await teacher.evaluate(() => window.lectern.asks.some((a) => a.text === 'again'))), 'the blocked ask was dropped');

  // The teacher's own page starts a quiz.
  await teacher.evaluate(() => {
    document.getElementById('q-text').value = 'Capital of France?';
    const rows = document.querySelectorAll('#q-opts .opt');
    rows[0].querySelector('input[type=text]').value = 'Lyon';
    rows[1].querySelector('input[type=text]').value = 'Paris';
    rows[1].querySelector('input[type=radio]').checked = true;
    document.getElementById('q-start').click();
  });
  await waitFor(() => got(teacher, 'quiz_started'), 3000, 'quiz_started');
  await waitFor(() => students[0].evaluate(() => window.lectern.quiz?.shownAt > 0 &&
    document.getElementById('quiz-q').textContent === 'Capital of France?'), 3000, 'the page quiz at a student');
});
