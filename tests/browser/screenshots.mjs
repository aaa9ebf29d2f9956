// The README's screenshots of the teacher's studio and a student's page on
// a phone, taken from a real origin with headless Chromium (fake camera and
// mic), mid-quiz with a question from the audience.  Not a test: run by
// hand after changing the pages, in the test namespace:
//   LECTERN_BUILD_DIR=$PWD/build bash tests/browser/run.sh tests/browser/screenshots.mjs
// writes docs/img/teacher.png and docs/img/student.png.
import { test, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Node, waitFor, sleep } from '../integration/lib.mjs';
import { launch } from './lib.mjs';

const OUT = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'img');
let browser, origin;
after(async () => {
  await browser?.close().catch(() => {});
  await origin?.stop('SIGKILL').catch(() => {});
});

test('screenshots of the pages', { timeout: 120000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  origin = new Node('origin', 'origin-shots', 'eu-central-1', null, 'ice: {addresses: [127.0.0.1]}\n');
  await origin.start();
  browser = await launch();
  const teacher = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await teacher.goto(`${origin.url}/publish?stream=class&codec=VP8&res=640x360`);
  await teacher.evaluate(() => window.lectern.start());
  await waitFor(() => teacher.evaluate(() => window.lectern.state === 'live'), 10000, 'live');
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true,
    deviceScaleFactor: 2 })).newPage();
  await phone.goto(`${origin.url}/watch/class`);
  await waitFor(() => phone.evaluate(() => !!window.lectern.me), 15000, 'the student');
  await phone.evaluate(() => window.lectern.channel.send({ type: 'ask', text: 'Could you repeat the second step?' }));
  await phone.evaluate(() => window.lectern.channel.send({ type: 'hand', up: true }));
  await teacher.evaluate(() => {
    document.getElementById('q-text').value = 'Which of these is a prime number?';
    const rows = document.querySelectorAll('#q-opts .opt');
    ['4', '7', '9', '15'].forEach((t, i) => { rows[i].querySelector('input[type=text]').value = t; });
    rows[1].querySelector('input[type=radio]').checked = true;
    document.getElementById('q-secs').value = '30';
    document.getElementById('q-start').click();
  });
  await waitFor(() => phone.evaluate(() => window.lectern.quiz?.shownAt > 0), 5000, 'the quiz at the student');
  await sleep(600);
  await phone.click('#quiz-opts button[data-option="1"]');
  await sleep(2500);
  await teacher.screenshot({ path: path.join(OUT, 'teacher.png') });
  await phone.screenshot({ path: path.join(OUT, 'student.png'), fullPage: true });
});
