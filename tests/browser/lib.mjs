// Helpers for browser tests: Debian's Chromium through playwright-core,
// with a fake camera and mic and no background throttling.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import path from 'node:path';

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'package.json'));
const { chromium } = require('playwright-core');

export const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required'];

// The sanitizer pass (scripts/test.sh's second) runs the nodes two to five
// times slower beside the Chromiums on two cores: a starved worker sends in
// bursts (on a shaped link, a queue: a low estimate) and slows the
// teacher's own uplink estimate, so a freeze, a stall of a few seconds or
// a layer below what the link carries there says nothing of a release
// build.  What these tests measure of smoothness and of link estimates is
// asserted in the release pass and printed in the sanitizer pass; what
// must hold at any speed (every student gets video, decoding goes on, the
// fibre student gets the top layer, every protocol check) in both.
export const sanitized = process.env.LECTERN_SANITIZED === '1';
export function measured(ok, message) {
  if (ok) return;
  if (sanitized) console.log(`  [sanitizer build: measured, not asserted] ${message}`);
  else assert.fail(message);
}

// LECTERN_CHROMIUM_ARGS: more flags, for a look inside a failing run (e.g.
// "--enable-logging --log-file=/tmp/chromium.log --vmodule=*/webrtc/*=1").
export function launch(extraArgs = []) {
  const more = (process.env.LECTERN_CHROMIUM_ARGS || '').split(' ').filter(Boolean);
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, ...extraArgs, ...more], headless: true });
}

// Arms a student page to answer `option` `delay` ms after its quiz is on
// screen, by clicking the page's own button; resolves with what the page
// saw (when it showed the quiz, on the wall clock; its reaction time) and
// `stallMs`: the longest its main thread was busy (a gap in a 5 ms ticker)
// in the 300 ms before it showed the quiz, so a page shown late because
// its own renderer was starved of CPU is told from one the node was late
// for; `stallAfterMs` the same from the show to the click.  Event-driven: this listener runs after the page's own, and its
// frame callback after the one that marks the quiz shown.
export const armAnswer = (page, option, delay) => page.evaluate(([opt, ms]) => new Promise((resolve) => {
  const gaps = []; // [end, gap]
  let last = performance.now();
  const ticker = setInterval(() => {
    const n = performance.now();
    if (n - last > 8) gaps.push([n, n - last]);
    if (gaps.length > 2000) gaps.shift();
    last = n;
  }, 5);
  window.lectern.channel.addEventListener('quiz', () => requestAnimationFrame(() => {
    const q = window.lectern.quiz;
    const shown = performance.now();
    const open = [shown, shown - last]; // the gap still open when it showed
    const stallMs = Math.max(0, ...[...gaps, open].filter(([end, g]) => end > shown - 300 && end - g < shown)
      .map(([, g]) => g));
    setTimeout(() => {
      document.querySelector(`#quiz-opts button[data-option="${opt}"]`).click();
      const clicked = performance.now();
      clearInterval(ticker);
      gaps.push([clicked, clicked - last]);
      // And between the show and the click: an answer sent late.
      const stallAfterMs = Math.max(0, ...gaps.filter(([end]) => end > shown).map(([, g]) => g));
      resolve({ id: q.id, shownWall: q.shownWall, reaction: q.reaction, stallMs, stallAfterMs });
    }, ms);
  }), { once: true });
}), [option, delay]);
