// Firefox ESR (Debian's firefox-esr, driven by puppeteer-core over WebDriver
// BiDi) beside Chromium: it builds its SDP its own way, and here it has no
// H.264 (its OpenH264 plugin is fetched at run time, which these machines
// cannot).  It gathers no candidates with only loopback: run.sh gives the
// test's namespace a veth (10.99.0.1, LECTERN_NETNS_VETH), and the node
// offers a candidate there too.
//
//   - a Chromium teacher (VP8): the Firefox viewer page plays it;
//   - the Firefox teacher page publishes VP8 (fake camera and mic): a
//     Chromium viewer plays it;
//   - a Chromium teacher publishing H.264 only: the Firefox viewer page is
//     told why it has no picture (its session's not_served, on the page),
//     and still hears the teacher.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as lib from '../integration/lib.mjs';
import { Node, waitFor } from '../integration/lib.mjs';
import { launch } from './lib.mjs';

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'package.json'));
const puppeteer = require('puppeteer-core');

let chromium, firefox;
const procs = [];
after(async () => {
  await firefox?.close().catch(() => {});
  await chromium?.close().catch(() => {});
  await lib.teardown(procs);
});

const stats = (page) => page.evaluate(() => window.lectern.stats || null);

async function chromiumPage(url) {
  const page = await (await chromium.newContext()).newPage();
  await page.goto(url);
  return page;
}

async function firefoxPage(url) {
  const page = await firefox.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`  [firefox] ${m.text()}`); });
  await page.goto(url);
  return page;
}

// A page's state, for a failure's message.
const pageState = (page) => page.evaluate(() => {
  const pc = window.lectern?.session?.pc;
  const lines = (d) => (d?.sdp || '').split('\r\n').filter((l) => /^(m=|a=mid|a=group|a=setup|a=sctp|a=max-m)/.test(l));
  return JSON.stringify({ state: window.lectern?.state, stats: window.lectern?.stats,
    offer: lines(pc?.localDescription), answer: lines(pc?.remoteDescription), ice: pc?.iceConnectionState });
}).catch((e) => `${e}`);

test('Firefox ESR plays a VP8 teacher, publishes to Chromium viewers, and is told why an H.264 teacher has no picture',
  { timeout: 150000 }, async () => {
    const origin = new Node('origin', 'origin-ff', 'eu-central-1', null,
      'ice: {addresses: [127.0.0.1, 10.99.0.1], port_range: 33000-33499}\n');
    procs.push(origin);
    await origin.start();
    chromium = await launch();
    firefox = await puppeteer.launch({
      browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
      extraPrefsFirefox: { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true,
        // Only loopback exists in the test's namespace: Firefox must gather
        // on it, and say its address rather than an mDNS name.
        'media.peerconnection.ice.loopback': true,
        'media.peerconnection.ice.obfuscate_host_addresses': false },
    });

    // A Chromium teacher in VP8; Firefox watches.
    const teacher = await chromiumPage(`${origin.url}/publish?stream=vp8class&codec=VP8`);
    await teacher.evaluate(() => window.lectern.start());
    await waitFor(() => teacher.evaluate(() => window.lectern.state === 'live'), 10000, 'the Chromium teacher');
    const ffViewer = await firefoxPage(`${origin.url}/watch/vp8class`);
    await waitFor(async () => ((await stats(ffViewer))?.framesDecoded || 0) > 30, 20000, 'Firefox to decode')
      .catch(async (e) => { throw new Error(`${e.message}; the page: ${await pageState(ffViewer)}`); });
    const fs = await stats(ffViewer);
    console.log(`# Firefox viewer: ${fs.codec} ${fs.width}x${fs.height}, ${fs.framesDecoded} frames`);
    assert.match(fs.codec, /VP8/i);

    // The Firefox teacher page publishes VP8; Chromium watches.
    const ffTeacher = await firefoxPage(`${origin.url}/publish?stream=ffclass&codec=VP8`);
    await ffTeacher.evaluate(() => window.lectern.start());
    await waitFor(() => ffTeacher.evaluate(() => window.lectern.state === 'live'), 15000, 'the Firefox teacher');
    const crViewer = await chromiumPage(`${origin.url}/watch/ffclass`);
    await waitFor(async () => ((await stats(crViewer))?.framesDecoded || 0) > 30, 20000,
      'Chromium to decode the Firefox teacher');
    const cs = await stats(crViewer);
    console.log(`# Chromium viewer of the Firefox teacher: ${cs.codec} ${cs.width}x${cs.height}, ${cs.framesDecoded} frames`);

    // An H.264-only teacher: Firefox hears it, and is told why there is no picture.
    const h264 = await chromiumPage(`${origin.url}/publish?stream=h264class&codec=H264`);
    await h264.evaluate(() => window.lectern.start());
    await waitFor(() => h264.evaluate(() => window.lectern.state === 'live'), 10000, 'the H.264 teacher');
    const told = await firefoxPage(`${origin.url}/watch/h264class`);
    const { value: why } = await waitFor(() => told.evaluate(() => window.lectern.notServed || ''), 15000,
      'the Firefox page to learn why it has no picture');
    const shown = await told.evaluate(() => document.getElementById('state').textContent);
    console.log(`# Firefox viewer of an H.264 teacher: "${shown}"`);
    assert.match(why, /video .*no codec in common: offered .*VP8.*; the stream is H264/);
    assert.match(shown, /the stream is H264/);
    await waitFor(async () => ((await stats(told))?.audioPackets || 0) > 100, 10000, 'Firefox to hear the teacher');
  });
