// Browser-test harness for the dashboard: a vigild of its own per test (temporary DB, or a
// three-member etcd lab of its own with setup(t, { etcd: true }); free port), seeded through the
// API, and Debian's Chromium driven by playwright-core (never a downloaded browser) with a fresh
// profile. Agents are simulated by PUT /nodes/N/status as admin.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SHOTS = path.join(ROOT, 'build', 'screenshots');
const VIGILD = process.env.VIGILD || path.join(ROOT, 'build', 'vigild');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic'];
export const ADMIN = 'ui-test-admin-secret';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A three-member etcd on loopback (tests/etcd/etcdlab.py run as a child, its data in dir) for
// a vigild on the etcd backend; stop() ends it (SIGTERM: the lab stops its members).
export class EtcdLab {
  static async start(dir) {
    const lab = new EtcdLab();
    lab.proc = spawn('/usr/bin/python3', [path.join(ROOT, 'tests', 'etcd', 'etcdlab.py'), dir,
      '--max-txn-ops', '8192'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    lab.proc.stderr.on('data', (b) => { out += b; });
    lab.endpoints = await new Promise((resolve, reject) => {
      lab.proc.stdout.on('data', (b) => {
        out += b;
        const m = /etcd lab up in [\d.]+ s: (\S+) leader/.exec(out);
        if (m) resolve(m[1]);
      });
      lab.proc.once('exit', () => reject(new Error(`etcd lab did not start:\n${out}`)));
    });
    return lab;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await done;
  }
}

// One vigild with its own database (or, with etcd, a three-member etcd lab of its own).
// req() speaks JSON to it with a token (admin by default).
export class Vigild {
  constructor(dir, port, args) {
    this.dir = dir;
    this.port = port;
    this.args = args;
    this.url = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.lab = null;
    this.log = '';
  }

  static async start(args = [], { etcd = false } = {}) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-ui-db-'));
    const v = new Vigild(dir, await freePort(), args);
    if (etcd) v.lab = await EtcdLab.start(path.join(dir, 'etcd'));
    await v.run();
    return v;
  }

  store() {
    if (this.lab) return ['--etcd', this.lab.endpoints, '--etcd-prefix', '/vigil-ui/'];
    return ['--db', path.join(this.dir, 'v.db')];
  }

  async run() {
    this.proc = spawn(VIGILD, ['--listen', `127.0.0.1:${this.port}`, ...this.store(),
      '--agent-timeout', '600', ...this.args],
    { env: { ...process.env, VIGIL_ADMIN_TOKEN: ADMIN }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (b) => { this.log += b; });
    this.proc.stderr.on('data', (b) => { this.log += b; });
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`vigild did not start:\n${this.log}`);
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGTERM');
    await done;
  }

  async stop() {
    await this.kill();
    if (this.lab) await this.lab.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async req(method, p, body, { token = ADMIN, headers = {} } = {}) {
    const h = { Authorization: `Bearer ${token}`, Accept: 'application/hal+json', ...headers };
    if (body !== undefined && !h['Content-Type']) h['Content-Type'] = 'application/json';
    const r = await fetch(this.url + p, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
  }

  async ok(method, p, body, opts) {
    const r = await this.req(method, p, body, opts);
    assert.ok(r.status >= 200 && r.status < 300,
      `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  // A simulated agent report for node: vrrp {vip: [state, priority, track?]} (track: the VIP's
  // tracked links as the agent sees them), plus any other members.
  async report(node, vrrp, extra = {}) {
    const v = {};
    for (const [vip, [state, priority, track]] of Object.entries(vrrp)) {
      v[vip] = track ? { state, priority, track } : { state, priority };
    }
    return this.ok('PUT', `/nodes/${node}/status`, { vrrp: v, ...extra });
  }

  // web held by holder (MASTER), the other members BACKUP at their configured priorities.
  async hold(holder, extra = {}) {
    const prio = { lb1: 150, lb2: 100, lb3: 50 };
    for (const n of ['lb1', 'lb2', 'lb3']) {
      await this.report(n, { web: [n === holder ? 'MASTER' : 'BACKUP', prio[n]] },
        { vips_held: n === holder ? ['web'] : [], ...(extra[n] || {}) });
    }
  }
}

// The cluster every test starts from: three nodes, VIP web (lb1 preferred), two backends, a
// check, one token per role. holder: who holds web (default lb2, so vg:failback is linked).
export async function seed(v, { holder = 'lb2' } = {}) {
  const nodes = [['lb1', '198.18.0.11', { rack: 'r1' }], ['lb2', '198.18.0.12', { rack: 'r2' }],
    ['lb3', '198.18.0.13', { rack: 'r3' }]];
  for (const [name, address, labels] of nodes) {
    await v.ok('POST', '/nodes', { name, address, interface: 'eth0', labels,
      ip_nonlocal_bind: true });
  }
  await v.ok('POST', '/vips', { name: 'web', addresses: ['198.18.0.100/24'], interface: 'eth0',
    vrid: 51, members: [{ node: 'lb1', priority: 150 }, { node: 'lb2', priority: 100 },
      { node: 'lb3', priority: 50 }] });
  await v.ok('POST', '/backends', { name: 'app1', vip: 'web', address: '198.18.1.11', port: 8080 });
  await v.ok('POST', '/backends', { name: 'app2', vip: 'web', address: '198.18.1.12', port: 8080,
    weight: 2 });
  await v.ok('POST', '/checks', { name: 'app1-http', type: 'http', backend: 'app1', port: 8080,
    path: '/health' });
  const tokens = {};
  for (const role of ['operator', 'viewer']) {
    tokens[role] = (await v.ok('POST', '/tokens', { role, description: `ui test ${role}` })).secret;
  }
  tokens.admin = ADMIN;
  if (holder) {
    await v.hold(holder, { lb1: { ip_nonlocal_bind: true }, lb2: { ip_nonlocal_bind: true } });
  }
  return tokens;
}

// Chromium with a fresh profile (removed by close()), one page, and every console error and
// uncaught exception of that page recorded in errors.
export async function launch(viewport = { width: 1280, height: 800 }) {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'vigil-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport,
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  const close = async () => {
    await context.close().catch(() => {});
    await rm(profile, { recursive: true, force: true });
  };
  return { context, page, errors, close };
}

// A seeded vigild and a browser for test t (1280x800 unless told), both gone when t ends.
// etcd: vigild on the etcd backend, with a three-member etcd lab of its own.
export async function setup(t, { vigildArgs = [], holder, viewport, etcd = false } = {}) {
  const v = await Vigild.start(vigildArgs, { etcd });
  let browser = null;
  t.after(async () => {
    if (browser) await browser.close();
    await v.stop();
  });
  const tokens = await seed(v, { holder });
  browser = await launch(viewport);
  return { v, tokens, ...browser };
}

// Opens /ui/ and signs in with token; waits until the cluster is drawn.
export async function signIn(page, v, token) {
  await page.goto(`${v.url}/ui/`);
  await page.fill('input[name="token"]', token);
  await page.press('input[name="token"]', 'Enter');
  await page.waitForSelector('#vip-web');
  await page.waitForSelector('#conn.c-live');
}

export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header belongs at the top
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// No console errors, except those matching one of the allowed patterns (e.g. the 412 the test
// provoked on purpose, which Chromium logs as a failed resource load).
export function assertNoConsoleErrors(errors, allowed = []) {
  const left = errors.filter((e) => !allowed.some((re) => re.test(e)));
  assert.deepEqual(left, [], `console errors:\n${left.join('\n')}`);
}

// Waits until the text of the first element matching sel matches re (default: within 2 s, the
// promise the dashboard makes for a change to show).
export async function waitText(page, sel, re, timeout = 2000) {
  try {
    await page.waitForFunction(([s, src, flags]) => {
      const el = document.querySelector(s);
      return el !== null && new RegExp(src, flags).test(el.textContent);
    }, [sel, re.source, re.flags], { timeout, polling: 50 });
  } catch (e) {
    const now = await page.evaluate(
      (s) => document.querySelector(s)?.textContent ?? '(absent)', sel);
    throw new Error(`${sel} did not match ${re} within ${timeout} ms; it shows: ${now}`);
  }
}

// Polls fn (async, returning truthy when done) for up to timeout ms.
export async function eventually(fn, timeout = 2000, what = 'condition') {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`${what} not reached within ${timeout} ms (last: ${JSON.stringify(last)})`);
}
