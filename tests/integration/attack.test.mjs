// Attacks on a running node (issue 14), each with honest viewers watching
// the same class: they must keep playing (every packet counted per viewer,
// no gap), and the node's counters must show what it refused.
//
//   - one viewer floods NACKs (the newest 256 packets, every 10 ms) and
//     keyframe requests: it gets at most its budget of resends, the
//     teacher is asked for about one keyframe a second, the others play.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { Node, load, videoPps, assertEveryViewer } from './lib.mjs';

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
