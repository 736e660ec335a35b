// Takes docs/viewer.png: the TaskQueue.Stats trace of the running demo (deploy/quickstart.sh)
// in the viewer. Run with the demo up: node tests/browser/demo_screenshot.mjs docs/viewer.png
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const admin = 'http://127.0.0.1:9901';
const list = await (await fetch(admin + '/api/traces?limit=50')).json();
const t = list.traces.find((x) => x.rootName === 'TaskQueue.Stats' && !x.error);
if (!t) { console.error('no trace', JSON.stringify(list).slice(0, 500)); process.exit(1); }
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tracegate-shot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'],
  viewport: { width: 1280, height: 560 }, deviceScaleFactor: 1, colorScheme: 'light' });
const page = browser.pages()[0] || await browser.newPage();
await page.goto(`${admin}/traces#/trace/${t.traceId}`);
await page.waitForSelector('.span-row');
await page.waitForTimeout(300);
await page.screenshot({ path: process.argv[2] });
await browser.close();
console.log('ok', t.traceId, t.spanCount);
