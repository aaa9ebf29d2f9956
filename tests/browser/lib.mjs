// Helpers for browser tests: Debian's Chromium through playwright-core,
// with a fake camera and mic and no background throttling.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'package.json'));
const { chromium } = require('playwright-core');

export const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required'];

// LECTERN_CHROMIUM_ARGS: more flags, for a look inside a failing run (e.g.
// "--enable-logging --log-file=/tmp/chromium.log --vmodule=*/webrtc/*=1").
export function launch(extraArgs = []) {
  const more = (process.env.LECTERN_CHROMIUM_ARGS || '').split(' ').filter(Boolean);
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, ...extraArgs, ...more], headless: true });
}

// Arms a student page to answer `option` `delay` ms after its quiz is on
// screen, by clicking the page's own button; resolves with what the page
// saw (when it showed the quiz, on the wall clock; its reaction time).
// Event-driven: this listener runs after the page's own, and its frame
// callback after the one that marks the quiz shown.
export const armAnswer = (page, option, delay) => page.evaluate(([opt, ms]) => new Promise((resolve) => {
  window.lectern.channel.addEventListener('quiz', () => requestAnimationFrame(() => {
    const q = window.lectern.quiz;
    setTimeout(() => {
      document.querySelector(`#quiz-opts button[data-option="${opt}"]`).click();
      resolve({ id: q.id, shownWall: q.shownWall, reaction: q.reaction });
    }, ms);
  }), { once: true });
}), [option, delay]);
