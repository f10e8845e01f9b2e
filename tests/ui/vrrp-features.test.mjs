// The issue-10 VRRP settings on a VIP card: unicast and its external peer, tracked links with
// their weights and each member's link state, the notify argv and each member's last run (a
// success, a refusal with its reason), GARP when not the defaults, the virtual MAC, and the sync
// group linking to its other VIPs; kept live as the agents report.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, signIn, shot, waitText, assertNoConsoleErrors } from './harness.mjs';

const ago = (s) => new Date(Date.now() - s * 1000).toISOString();
const items = (page, sel) => page.$$eval(`${sel} li`,
  (lis) => lis.map((li) => li.textContent.replace(/\s+/g, ' ').trim()));
const text = (page, sel) => page.$eval(sel, (el) => el.textContent.replace(/\s+/g, ' ').trim());

// Two VIPs of sync group data on lb1 and lb2: db (IPv4, every issue-10 setting) and db6 (IPv6,
// multicast, defaults).
async function dataGroup(v) {
  await v.ok('POST', '/vips', { name: 'db', addresses: ['198.18.0.110/24'], interface: 'eth0',
    vrid: 60, members: [{ node: 'lb1', priority: 150 }, { node: 'lb2', priority: 100 }],
    unicast: true, peers: ['198.18.0.50'], group: 'data',
    track_interfaces: [{ interface: 'eth1' }, { interface: 'eth2', weight: -20 }],
    notify: ['notify-eip.sh', '--zone', 'a'], garp_repeat: 3, garp_delay_s: 0,
    garp_refresh_s: 60, vmac: true });
  await v.ok('POST', '/vips', { name: 'db6', addresses: ['2001:db8::10/64'], interface: 'eth0',
    vrid: 60, members: [{ node: 'lb1', priority: 150 }, { node: 'lb2', priority: 100 }],
    group: 'data', vmac: true });
}

// An agent's report for node: db and db6 in state at prio, db's tracked links and notify run,
// and web as the seed left it (lb2 holds it).
function report(node, state, prio, track, run) {
  const web = node === 'lb2' ? { state: 'MASTER', priority: 100 }
    : { state: 'BACKUP', priority: 150 };
  const body = {
    vrrp: { db: { state, priority: prio, track }, db6: { state, priority: prio }, web },
    vips_held: [...(state === 'MASTER' ? ['db', 'db6'] : []), ...(node === 'lb2' ? ['web'] : [])],
  };
  if (run) body.notify = { db: run };
  return body;
}

// db's tracked links as an agent reports them: eth1 up, eth2 in state eth2.
const links = (eth2) => [{ interface: 'eth1', weight: 0, state: 'up' },
  { interface: 'eth2', weight: -20, state: eth2 }];

test('a VIP card shows unicast, tracked links, notify runs, GARP, vmac and its sync group',
  async (t) => {
    const { v, tokens, page, errors } = await setup(t);
    await dataGroup(v);
    const agent = {};
    for (const n of ['lb1', 'lb2']) {
      agent[n] = (await v.ok('POST', '/tokens', { role: 'agent', node: n,
        description: `ui test agent ${n}` })).secret;
    }
    const put = (n, body) => v.ok('PUT', `/nodes/${n}/status`, body, { token: agent[n] });
    await put('lb1', report('lb1', 'MASTER', 150, links('up'), {
      state: 'MASTER', priority: 150, result: 'exit', exit_status: 0, output: 'eip moved',
      transition_at: ago(3), at: ago(2), duration_ms: 840 }));
    await put('lb2', report('lb2', 'BACKUP', 80, links('down'), {
      state: 'BACKUP', priority: 80, result: 'refused',
      output: 'notify-eip.sh: not in the script directory /etc/vigil/scripts', at: ago(1) }));

    await signIn(page, v, tokens.viewer);
    await page.waitForSelector('#vip-db .notify .runs li:nth-child(2)');

    // The meta lines: unicast to the members and the external peer; tracked links with their
    // weights, the virtual MAC of vrid 60 (0x3c), GARP as set.
    const meta = await text(page, '#vip-db .meta');
    assert.match(meta, /unicast to lb1, lb2 and external 198\.18\.0\.50/);
    const opts = await text(page, '#vip-db .meta.opts');
    assert.match(opts, /tracks eth1 \(FAULT if down\), eth2 \(−20 prio if down\)/);
    assert.match(opts, /vmac 00:00:5e:00:01:3c/);
    assert.match(opts, /GARP ×3, no second burst, refresh every 60 s/);
    // db6: multicast, IPv6 virtual MAC, GARP at its defaults is not mentioned, no notify.
    assert.match(await text(page, '#vip-db6 .meta'), /· multicast$/);
    const opts6 = await text(page, '#vip-db6 .meta.opts');
    assert.equal(opts6, 'vmac 00:00:5e:00:02:3c');
    assert.equal(await page.$('#vip-db6 .notify'), null);
    // web, the seeded VIP, uses none of it: no second meta line.
    assert.equal(await page.$('#vip-web .meta.opts'), null);
    assert.match(await text(page, '#vip-web .meta'), /· multicast$/);

    // The sync group names the other VIP and links to its card, both ways.
    assert.equal(await text(page, '#vip-db .group'), 'group data with db6');
    assert.equal(await page.getAttribute('#vip-db .group a', 'href'), '#vip-db6');
    assert.equal(await page.getAttribute('#vip-db6 .group a', 'href'), '#vip-db');
    await page.click('#vip-db .group a');
    assert.equal(await page.evaluate(() => location.hash), '#vip-db6');

    // Each member's links as its agent reports them, the state in words.
    const lb1 = '#vip-db .member:nth-child(1)';
    const lb2 = '#vip-db .member:nth-child(2)';
    assert.deepEqual(await items(page, `${lb1} .track`), ['eth1 up', 'eth2 up']);
    assert.deepEqual(await items(page, `${lb2} .track`), ['eth1 up', 'eth2 down']);
    assert.equal(await page.$eval(`${lb2} .track li:nth-child(2)`, (el) => el.className),
      't-down');

    // The notify argv, and each member's last run: lb1's succeeded, lb2's was refused and says why.
    assert.match(await text(page, '#vip-db .notify .argv'),
      /^Notify notify-eip\.sh --zone a \+ INSTANCE db state priority$/);
    const runs = await items(page, '#vip-db .notify .runs');
    assert.match(runs[0], /^lb1 MASTER: exit 0 · \d+ s ago$|^lb1 MASTER: exit 0 · just now$/);
    assert.match(runs[1], /^lb2 BACKUP: refused notify-eip\.sh: not in the script directory /);
    assert.match(runs[1], /\/etc\/vigil\/scripts · (just now|\d+ s ago)$/);
    await shot(page, 'vip-vrrp-features');

    // Live: lb1's eth2 goes down and its next run times out; the card follows within 2 s.
    await put('lb1', report('lb1', 'MASTER', 130, links('down'), {
      state: 'MASTER', priority: 130, result: 'timeout', output: 'waiting for the cloud API',
      at: ago(0), duration_ms: 10000 }));
    await waitText(page, `${lb1} .track`, /eth1 up\s*eth2 down/);
    await waitText(page, '#vip-db .notify .runs li:first-child',
      /lb1 MASTER: timed out waiting for the cloud API/);
    await waitText(page, `${lb1} .prio`, /\/ 130 eff\./);
    // and back up, with a clean run.
    await put('lb1', report('lb1', 'MASTER', 150, links('up'), {
      state: 'MASTER', priority: 150, result: 'exit', exit_status: 0, at: ago(0) }));
    await waitText(page, `${lb1} .track`, /eth1 up\s*eth2 up/);
    await waitText(page, '#vip-db .notify .runs li:first-child', /lb1 MASTER: exit 0 ·/);

    // A third VIP joining the group shows up as a link on the others' cards.
    await v.ok('POST', '/vips', { name: 'db-admin', addresses: ['198.18.0.111/24'],
      interface: 'eth0', vrid: 61, group: 'data',
      members: [{ node: 'lb1', priority: 150 }, { node: 'lb2', priority: 100 }] });
    await waitText(page, '#vip-db .group', /^group data with db-admin, db6$/);
    await waitText(page, '#vip-db6 .group', /^group data with db, db-admin$/);
    assertNoConsoleErrors(errors);
  });
