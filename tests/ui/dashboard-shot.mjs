// Takes the README's picture of the dashboard: `node tests/ui/dashboard-shot.mjs [out.png]`
// (default docs/dashboard.png). A vigild of its own with a small cluster in it: three nodes, two
// VIPs (one held away from its preferred node, one by unicast whose backup is in FAULT because a
// tracked link is down, with its notify runs), backends up, down, drained and disabled, and check
// results, as an operator sees it at 1280x800.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { ROOT, Vigild, launch, signIn } from './harness.mjs';

const out = path.resolve(process.argv[2] || path.join(ROOT, 'docs', 'dashboard.png'));
const MERGE = { headers: { 'Content-Type': 'application/merge-patch+json' } };
const ago = (s) => new Date(Date.now() - s * 1000).toISOString();
const change = (vip, from, to, reason, s) => ({ vip, from, to, reason, at: ago(s) });

async function cluster(v) {
  const nodes = [['lb1', '198.18.0.11', 'r1'], ['lb2', '198.18.0.12', 'r2'],
    ['lb3', '198.18.0.13', 'r3']];
  for (const [name, address, rack] of nodes) {
    await v.ok('POST', '/nodes', { name, address, interface: 'eth0', labels: { rack },
      ip_nonlocal_bind: true });
  }
  await v.ok('POST', '/vips', { name: 'web', addresses: ['198.18.0.100/24'], interface: 'eth0',
    vrid: 51, members: [{ node: 'lb1', priority: 150 }, { node: 'lb2', priority: 100 },
      { node: 'lb3', priority: 50 }] });
  await v.ok('POST', '/vips', { name: 'api', addresses: ['198.18.0.101/24'], interface: 'eth0',
    vrid: 52, version: 2, advert_int_ms: 1000, preempt: true, preempt_delay_ms: 5000,
    auth_pass: 'vigil', unicast: true, peers: ['198.18.0.50'],
    track_interfaces: [{ interface: 'eth1' }], notify: ['notify-eip.sh', 'api'],
    members: [{ node: 'lb2', priority: 120 }, { node: 'lb3', priority: 110 }] });
  const backends = [['web-a', 'web', '198.18.1.11'], ['web-b', 'web', '198.18.1.12'],
    ['web-c', 'web', '198.18.1.13'], ['api-a', 'api', '198.18.2.11'],
    ['api-b', 'api', '198.18.2.12']];
  for (const [name, vip, address] of backends) {
    await v.ok('POST', '/backends', { name, vip, address, port: 8080 });
    await v.ok('POST', '/checks', { name: `${name}-http`, type: 'http', backend: name,
      port: 8080, path: '/healthz', interval_ms: 2000, rise: 2, fall: 3 });
  }
  await v.ok('PATCH', '/backends/web-c', { admin_state: 'drain' }, MERGE);
  await v.ok('PATCH', '/backends/api-b', { admin_state: 'disabled', weight: 0 }, MERGE);
  await v.ok('POST', '/checks', { name: 'lb-uplink', type: 'script', node: 'lb2',
    script: ['check_uplink', 'eth0'], weight: -20 });
  const token = (await v.ok('POST', '/tokens', { role: 'operator' })).secret;

  const up = (s) => ({ state: 'up', output: 'HTTP 200', at: ago(s) });
  const results = { 'web-a-http': up(1), 'web-c-http': up(2), 'api-a-http': up(1),
    'web-b-http': { state: 'down', output: 'HTTP 503', at: ago(1) } };
  // web was failed over to lb2 and lb1 came back: vg:failback is linked. On api, lb3's tracked
  // eth1 went down (FAULT) and lb2 holds it; lb3's notify script was refused.
  await v.report('lb1', { web: ['BACKUP', 150] }, { vips_held: [], agent_version: '0.1.0',
    ip_nonlocal_bind: true, checks: results,
    last_transition: change('web', 'FAULT', 'BACKUP', 'interface up', 40) });
  const eth1 = (state) => [{ interface: 'eth1', weight: 0, state }];
  await v.report('lb2', { web: ['MASTER', 100], api: ['MASTER', 120, eth1('up')] }, {
    vips_held: ['web', 'api'], agent_version: '0.1.0', ip_nonlocal_bind: true,
    notify: { api: { state: 'MASTER', priority: 120, result: 'exit', exit_status: 0,
      at: ago(94), duration_ms: 650 } }, checks: {
      ...results, 'lb-uplink': { state: 'up', output: 'uplink ok', at: ago(1) } },
    last_transition: change('web', 'BACKUP', 'MASTER', 'master down', 95) });
  await v.report('lb3', { web: ['BACKUP', 50], api: ['FAULT', 0, eth1('down')] }, {
    vips_held: [], agent_version: '0.1.0', ip_nonlocal_bind: false, checks: results,
    notify: { api: { state: 'FAULT', priority: 0, result: 'refused', at: ago(12),
      output: 'notify-eip.sh: writable by others' } },
    last_transition: change('api', 'BACKUP', 'FAULT', 'interface eth1 down', 12) });
  return token;
}

const v = await Vigild.start();
const browser = await launch({ width: 1280, height: 800 });
try {
  const token = await cluster(v);
  await signIn(browser.page, v, token);
  await browser.page.waitForTimeout(1500); // let the relative times read "n s ago"
  await mkdir(path.dirname(out), { recursive: true });
  await browser.page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
  if (browser.errors.length) throw new Error(`console errors: ${browser.errors.join('\n')}`);
} finally {
  await browser.close();
  await v.stop();
}
