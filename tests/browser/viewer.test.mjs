#!/usr/bin/env node
// Browser test of the trace viewer (proxy/admin/viewer.html, served at GET /traces).
//
// Starts the real tracegate with an ephemeral admin port, fills its trace store over
// OTLP/HTTP JSON (POST /v1/traces: one 500-span trace across 4 services, 999 small ones)
// plus one request proxied for real, then drives headless Chromium through the list and
// the waterfall and asserts on the rendered DOM. Screenshots go to the artifacts dir.
//
//   TRACEGATE_BINARY=build/tracegate node tests/browser/viewer.test.mjs [SCRATCH_DIR]
//   node tests/browser/viewer.test.mjs BINARY [SCRATCH_DIR]
//
// Environment:
//   TRACEGATE_BINARY     the tracegate executable (or the first argument)
//   TRACEGATE_SCRATCH    scratch dir (or the second argument; default: a fresh temp dir)
//   TRACEGATE_ARTIFACTS  where screenshots go (default: the scratch dir)
//   CHROMIUM             the browser (default /usr/bin/chromium)
//
// Needs `npm ci` in tests/browser (playwright-core only; it downloads no browser).
// Exit 0 = pass; 1 = a failed check (the message says which); tracegate is always stopped.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const HARD_TIMEOUT_MS = 120_000;
const STARTUP_TIMEOUT_MS = 15_000;
const RENDER_BOUND_MS = 3_000;
const BIG_SPANS = 500;
const SMALL_TRACES = 999;
const SERVICES = ['gateway', 'orders', 'inventory', 'payments'];
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const started = performance.now();
const log = (...a) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`, ...a);
class CheckFailed extends Error {}
function check(cond, msg) { if (!cond) throw new CheckFailed(msg); }

// ---------------------------------------------------------------------------------------
// Arguments and cleanup
// ---------------------------------------------------------------------------------------
const positional = process.argv.slice(2);
const binary = process.env.TRACEGATE_BINARY || positional.shift();
if (!binary) {
  console.error('usage: TRACEGATE_BINARY=path/to/tracegate node viewer.test.mjs [SCRATCH_DIR]');
  process.exit(2);
}
const scratch = process.env.TRACEGATE_SCRATCH || positional.shift() ||
  fs.mkdtempSync(path.join(os.tmpdir(), 'tracegate-viewer-'));
fs.mkdirSync(scratch, { recursive: true });
const artifacts = process.env.TRACEGATE_ARTIFACTS || scratch;
fs.mkdirSync(artifacts, { recursive: true });
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

let proxy = null;       // the tracegate child process
let upstream = null;    // the tiny upstream HTTP server
let browser = null;     // the Playwright browser context
let proxyStderr = '';
let profile = null;     // Chromium's user-data-dir, removed at the end

function stopProxy() {
  if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
    try { proxy.kill('SIGTERM'); } catch { /* already gone */ }
  }
}
process.on('exit', stopProxy);  // last resort, synchronous: whatever happened, no stray tracegate
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopProxy(); process.exit(1); });

const hardTimer = setTimeout(() => {
  console.error(`FAIL: the test did not finish within ${HARD_TIMEOUT_MS / 1000}s`);
  stopProxy();
  process.exit(1);
}, HARD_TIMEOUT_MS);

async function cleanup() {
  if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
  if (profile) { try { fs.rmSync(profile, { recursive: true, force: true }); } catch { /* best effort */ } }
  if (upstream) upstream.close();
  if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
    const exited = new Promise((resolve) => proxy.once('exit', resolve));
    stopProxy();
    const gone = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!gone) { log('tracegate ignored SIGTERM for 10s; SIGKILL'); proxy.kill('SIGKILL'); }
    else log(`tracegate stopped (exit ${proxy.exitCode ?? proxy.signalCode})`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Deterministic test data
// ---------------------------------------------------------------------------------------
let seed = 0x2545f491;
function rand() {  // xorshift32: the same spans every run
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const hex = (digits) => { let s = ''; while (s.length < digits) s += Math.floor(rand() * 0x10000).toString(16).padStart(4, '0'); return s.slice(0, digits); };

const str = (key, v) => ({ key, value: { stringValue: String(v) } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });   // proto3 JSON: int64 as a string
const bool = (key, v) => ({ key, value: { boolValue: v } });
const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 };

/**
 * The big trace: BIG_SPANS spans, nested up to 7 levels, over 4 services, every child
 * inside its parent's time window, one error span (early in the tree, so a screenshot of
 * the top of the waterfall shows it), events on some spans, and links.
 */
function bigTrace(nowNs, linkTarget) {
  const traceId = hex(32);
  // Shape, breadth first: the root calls 6 things, every other span 0 to 5, up to depth 6.
  const root = { id: hex(16), parent: null, depth: 0, service: 'gateway', kids: [] };
  const nodes = [root];
  for (let q = 0; q < nodes.length && nodes.length < BIG_SPANS; q++) {
    const p = nodes[q];
    if (p.depth >= 6) continue;
    const want = p.depth === 0 ? 6 : [0, 1, 2, 2, 3, 3, 4, 5][Math.floor(rand() * 8)];
    for (let k = 0; k < want && nodes.length < BIG_SPANS; k++) {
      const service = rand() < 0.6 ? p.service : pick(SERVICES.filter((s) => s !== p.service));
      const n = { id: hex(16), parent: p, depth: p.depth + 1, service, kids: [] };
      p.kids.push(n);
      nodes.push(n);
    }
  }
  check(nodes.length === BIG_SPANS, `generated ${nodes.length} spans, wanted ${BIG_SPANS}`);
  // Times: the root lasts 1.2s. Children run one after another in slots of their parent's
  // window, or (a third of the parents) all at once; always inside the parent's window.
  root.start = nowNs - 5_000_000_000n;
  root.dur = 1_200_000_000n;
  const pctOf = (d, lo, hi) => (d * BigInt(lo + Math.floor(rand() * (hi - lo)))) / 100n;
  for (const n of nodes) {
    const k = BigInt(n.kids.length);
    if (!k) continue;
    const parallel = k > 1n && rand() < 0.33;
    const slot = (n.dur * 90n) / 100n / (parallel ? 1n : k);
    n.kids.forEach((c, i) => {
      c.start = n.start + (n.dur * 5n) / 100n + (parallel ? pctOf(slot, 0, 8) : slot * BigInt(i) + pctOf(slot, 0, 10));
      c.dur = parallel ? pctOf(slot, 30, 90) : pctOf(slot, 45, 88);
      if (c.dur < 1000n) c.dur = 1000n;
    });
  }
  // The error span: a payments span among the first rows of the waterfall.
  const dfs = [];
  (function walk(n) { dfs.push(n); n.kids.forEach(walk); })(root);
  const errorNode = dfs.slice(3, 40).find((n) => n.depth >= 2) || dfs[5];
  errorNode.service = 'payments';
  errorNode.error = true;

  const names = {
    gateway: ['GET /checkout', 'authenticate', 'rate limit', 'route request'],
    orders: ['POST /orders', 'SELECT orders', 'validate cart', 'price items', 'publish order.created'],
    inventory: ['GET /stock/{sku}', 'SELECT stock', 'reserve items', 'cache get'],
    payments: ['POST /charge', 'fraud score', 'tokenize card', 'call acquirer'],
  };
  const spansByService = new Map(SERVICES.map((s) => [s, []]));
  const expect = new Map();  // span id -> what the page must show
  for (const n of dfs) {
    const name = n === root ? 'GET /checkout' : n === errorNode ? 'charge card' : pick(names[n.service]);
    const kind = n === root ? 'SERVER' : n.parent.service !== n.service ? 'SERVER' : rand() < 0.3 ? 'CLIENT' : 'INTERNAL';
    const end = n.start + n.dur;
    const attributes = [str('component', n.service), int('tg.test.index', expect.size), bool('tg.test.big', true)];
    if (n === root) attributes.push(str('http.request.method', 'GET'), str('http.route', '/checkout'), int('http.response.status_code', 502));
    const events = [];
    if (n === errorNode) {
      attributes.push(str('payment.provider', 'acme-pay'), str('error.type', 'card_declined'));
      events.push({ timeUnixNano: String(n.start + n.dur / 4n), name: 'request sent' });
      events.push({ timeUnixNano: String(n.start + (n.dur * 3n) / 4n), name: 'exception', attributes: [str('exception.message', 'card declined')] });
    } else if (rand() < 0.15) {
      events.push({ timeUnixNano: String(n.start + n.dur / 2n), name: 'cache miss' });
    }
    const span = {
      traceId, spanId: n.id, name, kind: KIND[kind],
      startTimeUnixNano: String(n.start), endTimeUnixNano: String(end),
      attributes, events,
    };
    if (n.parent) span.parentSpanId = n.parent.id;
    if (n === errorNode) {
      span.status = { code: 2, message: 'card declined' };
      span.links = [{ traceId: linkTarget.traceId, spanId: linkTarget.spanId, attributes: [str('link.reason', 'retry of')] },
                    { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16) }];
    }
    spansByService.get(n.service).push(span);
    expect.set(n.id, { parent: n.parent ? n.parent.id : '', depth: n.depth, error: !!n.error, name });
  }
  const body = { resourceSpans: SERVICES.map((s) => ({
    resource: { attributes: [str('service.name', s)] },
    scopeSpans: [{ scope: { name: 'viewer.test' }, spans: spansByService.get(s) }],
  })) };
  return { traceId, body, expect, errorSpanId: errorNode.id, rootId: root.id };
}

/** SMALL_TRACES traces of 1 to 4 spans; every 10th has an error; routes vary. */
function smallTraces(nowNs) {
  const routes = ['/cart', '/login', '/search', '/items/{id}'];
  const traces = [];
  for (let i = 0; i < SMALL_TRACES; i++) {
    const traceId = hex(32);
    const rootService = SERVICES[i % 3];  // gateway, orders, inventory: payments only inside
    const start = nowNs - BigInt(SMALL_TRACES - i) * 200_000_000n - 10_000_000_000n;
    const dur = BigInt(100_000 + Math.floor(rand() * 80_000_000));  // 100µs .. 80ms
    const route = routes[i % routes.length];
    const error = i % 10 === 7;
    const rootId = hex(16);
    const spans = [{ service: rootService, span: {
      traceId, spanId: rootId, name: 'GET ' + route, kind: KIND.SERVER,
      startTimeUnixNano: String(start), endTimeUnixNano: String(start + dur),
      attributes: [str('http.request.method', 'GET'), str('http.route', route), int('http.response.status_code', error ? 500 : 200)],
      ...(error ? { status: { code: 2, message: 'upstream returned 500' } } : {}),
    } }];
    const kids = Math.floor(rand() * 4);
    for (let k = 0; k < kids; k++) {
      const service = i % 5 === 0 && k === 0 ? 'payments' : pick(SERVICES);
      const cs = start + (dur * BigInt(10 + 25 * k)) / 100n;
      spans.push({ service, span: {
        traceId, spanId: hex(16), parentSpanId: rootId, name: 'call ' + service, kind: KIND.CLIENT,
        startTimeUnixNano: String(cs), endTimeUnixNano: String(cs + dur / 5n), attributes: [int('attempt', k)],
      } });
    }
    traces.push({ traceId, rootId, rootService, route, error, spans, services: new Set(spans.map((s) => s.service)) });
  }
  return traces;
}

function otlpBody(spans) {  // [{service, span}] -> ExportTraceServiceRequest JSON
  const by = new Map();
  for (const { service, span } of spans) { if (!by.has(service)) by.set(service, []); by.get(service).push(span); }
  return { resourceSpans: [...by].map(([s, list]) => ({
    resource: { attributes: [str('service.name', s)] },
    scopeSpans: [{ scope: { name: 'viewer.test' }, spans: list }],
  })) };
}

// ---------------------------------------------------------------------------------------
// HTTP helpers (no dependency beyond node:http)
// ---------------------------------------------------------------------------------------
function request(url, { method = 'GET', body = null, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 15_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 15s`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
async function getJson(url) {
  const r = await request(url);
  check(r.status === 200, `GET ${url} -> ${r.status}: ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text);
}
async function postSpans(admin, body, what) {
  const data = JSON.stringify(body);
  const r = await request(`${admin}/v1/traces`, {
    method: 'POST', body: data,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
  });
  check(r.status === 200, `POST /v1/traces (${what}, ${Buffer.byteLength(data)} bytes) -> ${r.status}: ${r.text.slice(0, 300)}`);
}
async function until(what, timeoutMs, fn) {  // polls fn until it returns a truthy value
  const deadline = performance.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { if (e instanceof CheckFailed) throw e; last = e; }
    check(performance.now() < deadline, `timed out after ${timeoutMs}ms waiting for ${what}` +
      (last instanceof Error ? ` (last error: ${last.message})` : ''));
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------
// tracegate
// ---------------------------------------------------------------------------------------
async function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('upstream ok\n'); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function startTracegate(upstreamPort) {
  const config = path.join(scratch, 'tracegate.yaml');
  fs.writeFileSync(config, [
    '# Written by tests/browser/viewer.test.mjs',
    'service_name: viewer-proxy',
    'workers: 1',
    'listeners:',
    '  - name: public',
    '    address: 127.0.0.1:0',
    'upstreams:',
    '  - name: app',
    `    endpoints: [127.0.0.1:${upstreamPort}]`,
    'admin:',
    '  address: 127.0.0.1:0',
    'tracing:',
    '  store:',
    '    max_traces: 5000',
    '',
  ].join('\n'));
  log(`starting ${binary} --config ${config}`);
  proxy = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const spawnError = new Promise((_, reject) => proxy.once('error', (e) => reject(new CheckFailed(`cannot start ${binary}: ${e.message}`))));
  spawnError.catch(() => {});
  proxy.stderr.setEncoding('utf8');
  proxy.stderr.on('data', (d) => { proxyStderr += d; });
  const tail = () => proxyStderr.split('\n').slice(-15).join('\n');
  const found = await Promise.race([spawnError, until('"admin listening on" in tracegate\'s stderr', STARTUP_TIMEOUT_MS, () => {
    if (proxy.exitCode !== null || proxy.signalCode !== null) {
      throw new CheckFailed(`tracegate exited (${proxy.exitCode ?? proxy.signalCode}) before listening; stderr:\n${tail()}`);
    }
    const admin = /admin listening on (\S+):(\d+)/.exec(proxyStderr);
    const listener = /listener public listening on (\S+):(\d+)/.exec(proxyStderr);
    return admin && listener ? { admin: `http://${admin[1]}:${admin[2]}`, listener: `http://${listener[1]}:${listener[2]}` } : null;
  }).catch((e) => { if (!/exited/.test(e.message)) e.message += `; stderr so far:\n${tail()}`; throw e; })]);
  log(`admin at ${found.admin}, proxy listener at ${found.listener}`);
  return found;
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------
async function main() {
  check(fs.existsSync(binary), `TRACEGATE_BINARY ${binary} does not exist (build tracegate first)`);
  check(fs.existsSync(chromiumPath), `${chromiumPath} does not exist: install Chromium (deploy/install-deps.sh) or set CHROMIUM`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new CheckFailed(`cannot load playwright-core (${e.message}); run "npm ci" in tests/browser`);
  }

  upstream = await startUpstream();
  const { admin, listener } = await startTracegate(upstream.address().port);

  // --- fill the store: one proxied request, 999 small traces, then the big one (newest).
  const proxied = await request(`${listener}/hello?from=viewer-test`);
  check(proxied.status === 200, `request through tracegate -> ${proxied.status}: ${proxied.text.slice(0, 200)}`);
  await until('the proxied request\'s span in the store', 10_000, async () =>
    (await getJson(`${admin}/api/traces?service=viewer-proxy`)).traces.length >= 1);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const small = smallTraces(nowNs);
  const BATCHES = 3;
  for (let b = 0; b < BATCHES; b++) {
    const part = small.slice(Math.floor((b * small.length) / BATCHES), Math.floor(((b + 1) * small.length) / BATCHES));
    await postSpans(admin, otlpBody(part.flatMap((t) => t.spans)), `small traces batch ${b + 1}`);
  }
  const linkTarget = { traceId: small[0].traceId, spanId: small[0].rootId };
  const big = bigTrace(nowNs, linkTarget);
  await postSpans(admin, big.body, `${BIG_SPANS}-span trace`);
  const listing = await getJson(`${admin}/api/traces?limit=1000`);
  check(listing.stats && listing.stats.traces >= SMALL_TRACES + 2,
    `store holds ${listing.stats && listing.stats.traces} traces, expected ${SMALL_TRACES + 2}: ${JSON.stringify(listing.stats)}`);
  const bigSummary = listing.traces.find((t) => t.traceId === big.traceId);
  check(bigSummary && bigSummary.spanCount === BIG_SPANS, `the big trace lists ${bigSummary && bigSummary.spanCount} spans, expected ${BIG_SPANS}`);
  log(`store: ${listing.stats.traces} traces, ${listing.stats.spans} spans`);

  // --- the browser
  profile = fs.mkdtempSync(path.join(scratch, 'chromium-profile-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light', timeout: 30_000,
  });
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  const foreign = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {  // a 404 for a trace not in the store is an expected answer, not an error
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(m.text())) pageErrors.push('console: ' + m.text());
  });
  page.on('request', (r) => { if (!r.url().startsWith(admin + '/') && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const noErrors = (where) => {
    check(!pageErrors.length, `page errors ${where}: ${pageErrors.join(' | ')}`);
    check(!foreign.length, `the page fetched from elsewhere than the admin server: ${foreign.join(', ')}`);
  };

  // --- list view, default filters
  const html = await request(`${admin}/traces`);
  check(html.status === 200 && /text\/html/.test(html.headers['content-type'] || ''), `GET /traces -> ${html.status} ${html.headers['content-type']}`);
  await page.goto(`${admin}/traces`);
  const rows = () => page.locator('tr.trace-row');
  await page.waitForSelector('tr.trace-row');
  const defaultCount = await rows().count();
  check(defaultCount >= 50, `default list shows ${defaultCount} rows, expected at least 50`);
  check(await page.locator(`tr.trace-row[data-trace-id="${big.traceId}"]`).count() === 1, 'the newest (500-span) trace is not in the default list');
  log(`list: ${defaultCount} rows by default`);
  await page.mouse.move(1439, 899);
  const listShot = path.join(artifacts, 'viewer-list.png');
  await page.screenshot({ path: listShot });

  const rowIds = () => page.$$eval('tr.trace-row', (trs) => trs.map((tr) => tr.dataset.traceId));
  const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
  const apiIds = async (qs) => (await getJson(`${admin}/api/traces?${qs}`)).traces.map((t) => t.traceId);
  const waitRows = (what, pred) => until(what, 10_000, async () => { const ids = await rowIds(); return pred(ids) ? ids : null; });

  // limit 1000: every trace, and the time to render 1000 rows
  await page.selectOption('#f-limit', '1000');
  const all = await waitRows('1000 list rows', (ids) => ids.length === 1000);
  const listMs = Number(await page.locator('#list-view').getAttribute('data-render-ms'));
  log(`list: 1000 rows rendered in ${listMs}ms`);

  // service filter narrows, matches the API's answer, and every trace shown involves the service
  await page.selectOption('#f-service', 'orders');
  const expectOrders = await apiIds('service=orders&limit=1000');
  const orders = await waitRows('the service filter', (ids) => ids.length < all.length && sameSet(ids, expectOrders));
  check(orders.length > 0, 'service=orders shows no rows');
  const summaries = new Map(listing.traces.map((t) => [t.traceId, t]));
  for (const id of orders) {
    const t = summaries.get(id);
    check(!t || t.rootService === 'orders' || (t.services || []).includes('orders'), `trace ${id} is listed under service=orders but has no orders span`);
  }
  log(`service filter: orders -> ${orders.length} rows (of ${all.length})`);

  // errors only: every row is an error row; the expected ones are there
  await page.selectOption('#f-service', '');
  await page.check('#f-error');
  const expectErrors = await apiIds('error=true&limit=1000');
  const errors = await waitRows('the errors-only filter', (ids) => sameSet(ids, expectErrors));
  const errorRowCount = await page.locator('tr.trace-row.error').count();
  check(errors.length > 0 && errorRowCount === errors.length, `errors only: ${errors.length} rows, ${errorRowCount} marked as errors`);
  const wantErrors = small.filter((t) => t.error).length + 1;  // + the big trace
  check(errors.length === wantErrors, `errors only shows ${errors.length} rows, expected ${wantErrors}`);
  const errColour = await page.locator('tr.trace-row.error .badge.err').first().evaluate((e) => getComputedStyle(e).color);
  check(isRed(errColour), `error marker colour ${errColour} is not red`);
  log(`errors-only filter: ${errors.length} rows, all marked`);

  // route + min duration
  await page.uncheck('#f-error');
  await page.selectOption('#f-route', '/login');
  const expectLogin = await apiIds('route=%2Flogin&limit=1000');
  await waitRows('the route filter', (ids) => ids.length > 0 && sameSet(ids, expectLogin));
  await page.selectOption('#f-route', '');
  await page.fill('#f-min', '1s');
  await page.press('#f-min', 'Enter');
  const expectSlow = await apiIds('min_duration=1s&limit=1000');
  const slow = await waitRows('the min duration filter', (ids) => sameSet(ids, expectSlow));
  check(slow.includes(big.traceId) && slow.every((id) => id === big.traceId || !small.some((t) => t.traceId === id)),
    `min duration 1s shows ${slow.length} rows; expected the 1.2s trace and no small trace`);
  log('route and min-duration filters: ok');

  // a bad min duration is refused plainly
  await page.fill('#f-min', 'soon');
  await page.press('#f-min', 'Enter');
  await page.waitForSelector('#error-banner:not([hidden])');
  await page.fill('#f-min', '');
  await page.click('#f-reset');
  await waitRows('the reset filters', (ids) => ids.length === defaultCount);
  noErrors('on the list view');

  // --- the big trace: open it by clicking its row, and time it
  const timing = await page.evaluate(async (traceId) => {
    const row = document.querySelector(`tr.trace-row[data-trace-id="${traceId}"] td.c-spans`);
    const t0 = performance.now();
    row.click();
    await new Promise((resolve, reject) => {
      const give = setTimeout(() => reject(new Error('no waterfall after 20s')), 20_000);
      const poll = () => {
        if (document.querySelectorAll('#wf-rows .span-row').length >= 500) { clearTimeout(give); requestAnimationFrame(() => requestAnimationFrame(resolve)); }
        else requestAnimationFrame(poll);
      };
      poll();
    });
    const tv = document.getElementById('trace-view');
    return { total: performance.now() - t0, fetch: Number(tv.dataset.fetchMs), render: Number(tv.dataset.renderMs), hash: location.hash };
  }, big.traceId);
  log(`500-span trace: click to painted ${timing.total.toFixed(1)}ms (fetch ${timing.fetch}ms, DOM build ${timing.render}ms)`);
  check(timing.hash === `#/trace/${big.traceId}`, `clicking the row went to ${timing.hash}`);
  check(timing.total < RENDER_BOUND_MS, `the 500-span trace took ${timing.total.toFixed(0)}ms to show, bound ${RENDER_BOUND_MS}ms`);

  // structure: every span once, children after their parents, depth = parent + 1, bars nested
  const spanRows = await page.$$eval('.span-row', (els) => els.map((e) => {
    const bar = e.querySelector('.span-bar');
    return { id: e.dataset.spanId, parent: e.dataset.parentId, depth: Number(e.dataset.depth), error: e.classList.contains('error'),
             left: parseFloat(bar.style.left), width: parseFloat(bar.style.width), hasPctStyle: /%$/.test(bar.style.left) && /%$/.test(bar.style.width) };
  }));
  check(spanRows.length === BIG_SPANS, `${spanRows.length} .span-row elements, expected ${BIG_SPANS}`);
  const pos = new Map(spanRows.map((r, i) => [r.id, i]));
  check(pos.size === BIG_SPANS && [...big.expect.keys()].every((id) => pos.has(id)), 'the waterfall does not show every span exactly once');
  const EPS = 0.01;  // percent: rounding of the inline styles
  for (const [i, r] of spanRows.entries()) {
    const want = big.expect.get(r.id);
    check(r.hasPctStyle, `span ${r.id}: bar left/width are not inline percentages`);
    check(r.parent === want.parent, `span ${r.id}: data-parent-id ${r.parent}, sent ${want.parent}`);
    if (!want.parent) { check(r.depth === 0, `root ${r.id} has depth ${r.depth}`); continue; }
    const pi = pos.get(r.parent);
    const p = spanRows[pi];
    check(pi < i, `span ${r.id} (row ${i}) comes before its parent (row ${pi})`);
    check(r.depth === p.depth + 1, `span ${r.id}: depth ${r.depth}, parent depth ${p.depth}`);
    check(r.depth === want.depth, `span ${r.id}: depth ${r.depth}, expected ${want.depth}`);
    check(r.left >= p.left - EPS, `span ${r.id}: bar starts at ${r.left}%, before its parent's ${p.left}%`);
    check(r.left + r.width <= p.left + p.width + EPS, `span ${r.id}: bar ends at ${r.left + r.width}%, after its parent's ${p.left + p.width}%`);
  }
  const errorRows = spanRows.filter((r) => r.error).map((r) => r.id);
  check(errorRows.length === 1 && errorRows[0] === big.errorSpanId, `error rows ${JSON.stringify(errorRows)}, expected [${big.errorSpanId}]`);
  const errRow = page.locator(`.span-row[data-span-id="${big.errorSpanId}"]`);
  const errBar = await errRow.locator('.span-bar').evaluate((e) => getComputedStyle(e).backgroundColor);
  const errName = await errRow.locator('.op').evaluate((e) => getComputedStyle(e).color);
  check(isRed(errBar), `the error span's bar is ${errBar}, not red`);
  check(isRed(errName), `the error span's name is ${errName}, not red`);
  const okBar = await page.locator(`.span-row[data-span-id="${big.rootId}"] .span-bar`).evaluate((e) => getComputedStyle(e).backgroundColor);
  check(!isRed(okBar), `a span without error has a red bar (${okBar})`);
  const evTicks = await errRow.locator('.span-bar .ev').count();
  check(evTicks === 2, `the error span's bar shows ${evTicks} event ticks, expected 2`);
  log(`waterfall: ${spanRows.length} rows, tree order and bar nesting ok, error row red (${errBar})`);

  // collapse the root: only it stays; expand: all back
  await page.locator(`.span-row[data-span-id="${big.rootId}"] .tog`).click();
  const visibleAfterCollapse = await page.locator('.span-row:visible').count();
  check(visibleAfterCollapse === 1, `after collapsing the root ${visibleAfterCollapse} rows are visible, expected 1`);
  await page.locator(`.span-row[data-span-id="${big.rootId}"] .tog`).click();
  check(await page.locator('.span-row:visible').count() === BIG_SPANS, 'expanding the root did not show every row again');

  // keyboard: from the root, ArrowDown selects the next row; Escape closes the details
  await page.locator(`.span-row[data-span-id="${big.rootId}"] .span-name`).focus();
  await page.keyboard.press('ArrowDown');
  check(await page.evaluate(() => location.hash) === `#/trace/${big.traceId}/span/${spanRows[1].id}`, 'ArrowDown did not select the second row');
  check(await page.evaluate(() => document.activeElement.closest('.span-row')?.dataset.spanId) === spanRows[1].id, 'ArrowDown did not move the focus');
  await page.keyboard.press('Escape');
  await page.locator('#span-detail').waitFor({ state: 'hidden' });

  // click the error span: the detail panel shows its attributes, status, events and links
  await errRow.locator('.span-name').click();
  const detail = page.locator('#span-detail');
  await detail.waitFor({ state: 'visible' });
  const detailText = await detail.innerText();
  for (const want of ['payment.provider', 'acme-pay', 'error.type', 'card_declined', 'tg.test.index', 'ERROR', 'card declined',
    'request sent', 'exception', big.errorSpanId, 'charge card']) {
    check(detailText.includes(want), `#span-detail lacks "${want}"; it shows:\n${detailText}`);
  }
  check(await page.evaluate(() => location.hash) === `#/trace/${big.traceId}/span/${big.errorSpanId}`, 'selecting a span did not put it in the URL');
  const link = detail.locator(`a[href="#/trace/${linkTarget.traceId}/span/${linkTarget.spanId}"]`);
  await link.waitFor({ state: 'attached', timeout: 5000 }).catch(() => {});
  check(await link.count() === 1, 'the link to a trace in the store is not clickable');
  await until('the missing link marked as not in the store', 5000, async () => /not in the store/.test(await detail.innerText()));
  log('detail panel: attributes, status, events, links ok');

  // zoom the time axis to the selected span, then back
  await detail.getByRole('button', { name: 'Zoom to span' }).click();
  const zoomedBar = await errRow.locator('.span-bar').evaluate((e) => [parseFloat(e.style.left), parseFloat(e.style.width)]);
  check(Math.abs(zoomedBar[0] - 100 * 0.05 / 1.1) < 0.1 && Math.abs(zoomedBar[1] - 100 / 1.1) < 0.1,
    `zoomed to the span, its bar is at ${zoomedBar[0]}% width ${zoomedBar[1]}%`);
  check(await page.locator('.span-row').count() === BIG_SPANS, 'zooming lost rows');
  await page.getByRole('button', { name: 'Reset zoom' }).click();
  const unzoomed = await errRow.locator('.span-bar').evaluate((e) => e.style.left);
  check(unzoomed === spanRows.find((r) => r.id === big.errorSpanId).left + '%', `after Reset zoom the bar is at ${unzoomed}`);
  noErrors('on the trace view');

  // screenshots: deep link straight to the selected span, as a bookmark would
  await page.goto(`${admin}/traces#/trace/${big.traceId}/span/${big.errorSpanId}`);
  await page.waitForSelector('#span-detail:not([hidden])');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(1439, 899);  // no hover effects in the picture
  const traceShot = path.join(artifacts, 'viewer-trace.png');
  await page.screenshot({ path: traceShot });
  const detailShot = path.join(artifacts, 'viewer-span-detail.png');
  await page.locator('#span-detail').screenshot({ path: detailShot });

  // follow the link into the other trace
  await page.locator(`#span-detail a[href^="#/trace/${linkTarget.traceId}"]`).click();
  await page.waitForSelector(`.span-row.selected[data-span-id="${linkTarget.spanId}"]`);

  // search box: straight to a trace; an unknown id says so
  await page.fill('#trace-id-input', big.traceId.toUpperCase());
  await page.press('#trace-id-input', 'Enter');
  await page.waitForFunction((id) => document.getElementById('trace-view').dataset.traceId === id &&
    document.querySelectorAll('.span-row').length === 500, big.traceId);
  await page.fill('#trace-id-input', '0123456789abcdef0123456789abcdef');
  await page.press('#trace-id-input', 'Enter');
  await page.getByText('is not in the store').waitFor();
  noErrors('after navigating');

  log(`screenshots:\n  ${listShot}\n  ${traceShot}\n  ${detailShot}`);
}

function isRed(css) {  // "rgb(r, g, b)" clearly red
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(css || '');
  if (!m) return false;
  const [r, g, b] = m.slice(1).map(Number);
  return r >= 150 && g <= 110 && b <= 110 && r - Math.max(g, b) >= 80;
}

let code = 0;
try {
  await main();
  log('PASS');
} catch (e) {
  code = 1;
  console.error(e instanceof CheckFailed ? `FAIL: ${e.message}` : `FAIL (unexpected error): ${e.stack || e}`);
  if (proxyStderr) console.error(`--- tracegate stderr (last lines) ---\n${proxyStderr.split('\n').slice(-20).join('\n')}`);
} finally {
  await cleanup();
  clearTimeout(hardTimer);
}
process.exit(code);
