// The page stays live: changes made through the API show within 2 s without a reload, the feed
// is long-polled (never a tight poll), an outage is announced and recovered from by itself, and a
// 410 from the feed makes the page reload the collections and go on.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, signIn, shot, waitText, assertNoConsoleErrors } from './harness.mjs';

const MERGE = { headers: { 'Content-Type': 'application/merge-patch+json' } };

test('a change made through the API appears within 2 s, without a reload', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  const feedUrls = [];
  page.on('request', (r) => { if (r.url().includes('/events')) feedUrls.push(r.url()); });
  await signIn(page, v, tokens.admin);
  await page.evaluate(() => { window.samePage = true; });

  await v.ok('PATCH', '/backends/app2', { weight: 7 }, MERGE);
  await waitText(page, '#backend-app2 td[data-label="Weight"]', /^7$/);

  // A VIP shows every address (excluded ones in parentheses) and its sync group.
  await v.ok('PATCH', '/vips/web', { addresses: ['198.18.0.100/24', '198.18.0.110/24'],
    excluded_addresses: ['2001:db8::100/64'], group: 'front' }, MERGE);
  await waitText(page, '#vip-web .addr',
    /^198\.18\.0\.100\/24 198\.18\.0\.110\/24 \(2001:db8::100\/64\)$/);
  await waitText(page, '#vip-web .group', /group front/);

  // A failover as the agents report it: lb2's interface goes down, lb1 takes the VIP.
  const at = new Date().toISOString();
  await v.report('lb2', { web: ['FAULT', 0] }, { vips_held: [],
    last_transition: { vip: 'web', from: 'MASTER', to: 'FAULT', reason: 'interface down', at } });
  await v.report('lb1', { web: ['MASTER', 150] }, { vips_held: ['web'] });
  await waitText(page, '#vip-web .member.holder', /lb1/);
  await waitText(page, '#vip-web .member.s-fault', /lb2/);
  await waitText(page, '#node-lb2 .faults', /FAULT on web: interface down/);

  // Objects come and go.
  await v.ok('POST', '/nodes', { name: 'lb4', address: '198.18.0.14', interface: 'eth0' });
  await page.waitForSelector('#node-lb4', { timeout: 2000 });
  await v.ok('DELETE', '/checks/app1-http');
  await page.waitForSelector('#check-app1-http', { state: 'detached', timeout: 2000 });
  // A check result from a node shows in the checks table and in the backend's health.
  await v.ok('POST', '/checks', { name: 'app2-tcp', type: 'tcp', backend: 'app2', port: 8080 });
  await v.report('lb1', { web: ['MASTER', 150] }, { vips_held: ['web'], checks: { 'app2-tcp':
    { state: 'down', output: 'connection refused', at: new Date().toISOString() } } });
  await waitText(page, '#check-app2-tcp', /lb1\s*down\s*connection refused/);
  await waitText(page, '#events', /deleted\s*check\s*app1-http/);

  assert.equal(await page.evaluate(() => window.samePage), true, 'no reload happened');
  const polls = feedUrls.filter((u) => u.includes('since='));
  assert.ok(polls.length > 0);
  for (const u of polls) assert.match(u, /[?&]wait=\d+/, `long-poll, not a tight poll: ${u}`);
  await shot(page, 'live-change');
  assertNoConsoleErrors(errors);
});

test('when vigild goes away the page says so, and reconnects by itself', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  await signIn(page, v, tokens.operator);
  await v.kill();
  await waitText(page, '#banner', /reconnecting in \d+ s/, 5000);
  await waitText(page, '#conn', /reconnecting/);
  await shot(page, 'server-away');
  await v.run(); // the same port and database
  await page.waitForSelector('#conn.c-live', { timeout: 15000 });
  assert.equal(await page.isVisible('#banner'), false);
  await v.ok('PATCH', '/backends/app1', { weight: 5 }, MERGE);
  await waitText(page, '#backend-app1 td[data-label="Weight"]', /^5$/);
  await shot(page, 'server-back');
  // While it was away, Chromium reports the refused connections (and the 503 of a stopping
  // server) as failed loads: those and nothing else.
  assertNoConsoleErrors(errors, [/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|status of 503/]);
});

// On SQLite and (issue 12) on etcd, where the feed lives in etcd's ev/ keys.
async function feedGoneReloads(t, etcd) {
  const { v, tokens, page, errors } = await setup(t, { vigildArgs: ['--events-keep', '4'], etcd });
  let holding = true;
  const held = [];
  await page.route(/\/events\?since=/, (route) => (holding ? held.push(route) : route.continue()));
  let saw410 = false;
  page.on('response', (r) => {
    if (r.url().includes('/events') && r.status() === 410) saw410 = true;
  });
  await signIn(page, v, tokens.operator);
  // The page's long-poll is held back while more happens than the feed keeps.
  for (let w = 3; w <= 9; w++) await v.ok('PATCH', '/backends/app2', { weight: w }, MERGE);
  await v.ok('POST', '/backends', { name: 'app3', vip: 'web', address: '198.18.1.13', port: 80 });
  await waitText(page, '#backend-app2 td[data-label="Weight"]', /^2$/); // still the old state
  holding = false;
  for (const r of held) await r.continue();
  await page.waitForSelector('#backend-app3', { timeout: 2000 });
  await waitText(page, '#backend-app2 td[data-label="Weight"]', /^9$/);
  assert.ok(saw410, 'the feed answered 410');
  await page.waitForSelector('#conn.c-live', { timeout: 2000 });
  // And it goes on following the feed from the new head.
  await v.ok('PATCH', '/backends/app3', { weight: 4 }, MERGE);
  await waitText(page, '#backend-app3 td[data-label="Weight"]', /^4$/);
  await shot(page, etcd ? 'feed-gone-reloaded-etcd' : 'feed-gone-reloaded');
  assertNoConsoleErrors(errors, [/status of 410/]);
}

test('a 410 from the feed makes the page reload the collections and go on',
  (t) => feedGoneReloads(t, false));
test('a 410 from the feed makes the page reload the collections and go on (etcd)',
  (t) => feedGoneReloads(t, true));
