// Actions, which the page offers only when the representation links them and the role allows:
// Fail back (vg:failback), Move (vg:holder), enable / drain / disable a backend (its self link).
// Every write carries If-Match; a 412 is shown with the new state.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, signIn, shot, waitText, eventually, assertNoConsoleErrors } from './harness.mjs';

const MERGE = { headers: { 'Content-Type': 'application/merge-patch+json' } };
const FAILBACK = '#vip-web button[data-fid="failback"]';

async function linked(v) {
  return Boolean((await v.ok('GET', '/vips/web'))._links['vg:failback']);
}

test('Fail back shows exactly while vg:failback is linked, and clicking it PUTs the holder',
  async (t) => {
    const { v, tokens, page, errors } = await setup(t, { holder: 'lb1' });
    await signIn(page, v, tokens.operator);
    await waitText(page, '#vip-web .member.holder', /lb1/);
    assert.equal(await linked(v), false);
    assert.equal(await page.locator(FAILBACK).count(), 0);
    await shot(page, 'failback-not-linked');

    for (let round = 0; round < 2; round++) {
      await v.hold('lb2'); // lb1 (preferred, agent up) is now a backup: the link appears
      assert.equal(await linked(v), true);
      await page.locator(FAILBACK).waitFor({ timeout: 2000 });
      if (round === 1) break;
      await v.hold('lb1'); // back on the preferred node: the link goes, so does the button
      assert.equal(await linked(v), false);
      await page.locator(FAILBACK).waitFor({ state: 'detached', timeout: 2000 });
    }
    await waitText(page, FAILBACK, /Fail back to lb1/);
    await shot(page, 'failback-linked');

    const before = await v.req('GET', '/vips/web/holder');
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/vips/web/holder')),
      page.click(FAILBACK),
    ]);
    assert.equal(req.headers()['if-match'], before.headers.get('etag'));
    assert.deepEqual(JSON.parse(req.postData()), { node: 'lb1' });
    assert.equal((await req.response()).status(), 202);
    const holder = await v.ok('GET', '/vips/web/holder');
    assert.equal(holder.requested, 'lb1');
    assert.equal(holder.state, 'moving');
    await waitText(page, '#vip-web .fact.moving', /moving to lb1/);
    await shot(page, 'failback-moving');

    // The agents carry the move out: the page shows it settled, and the link (and button) go.
    await v.hold('lb1');
    await waitText(page, '#vip-web .member.holder', /lb1/);
    await waitText(page, '#vip-web', /settled \(move #\d+ done\)/);
    await page.locator(FAILBACK).waitFor({ state: 'detached', timeout: 2000 });
    assert.equal(await linked(v), false);
    await shot(page, 'failback-settled');
    assertNoConsoleErrors(errors);
  });

test('Move to another member PUTs the holder with that member', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  await signIn(page, v, tokens.operator);
  await page.selectOption('#move-web', 'lb3');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/vips/web/holder')),
    page.click('#vip-web button[aria-label="Move web"]'),
  ]);
  assert.match(req.headers()['if-match'] || '', /^"[0-9a-f]+"$/);
  assert.deepEqual(JSON.parse(req.postData()), { node: 'lb3' });
  await eventually(async () => (await v.ok('GET', '/vips/web/holder')).requested === 'lb3');
  await waitText(page, '#vip-web .fact.moving', /moving to lb3/);
  await shot(page, 'move-member');
  assertNoConsoleErrors(errors);
});

test('drain from the page, by keyboard, reaches the backend resource', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  await signIn(page, v, tokens.operator);
  const etag = (await v.req('GET', '/backends/app1')).headers.get('etag');
  let found = false;
  for (let i = 0; i < 60 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement?.getAttribute('aria-label')
      === 'Drain app1');
  }
  assert.ok(found, 'the Drain button is reachable with Tab');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'PATCH'),
    page.keyboard.press('Enter'),
  ]);
  assert.ok(req.url().endsWith('/backends/app1'));
  assert.equal(req.headers()['content-type'], 'application/merge-patch+json');
  assert.equal(req.headers()['if-match'], etag);
  assert.deepEqual(JSON.parse(req.postData()), { admin_state: 'drain' });
  await eventually(async () => (await v.ok('GET', '/backends/app1')).admin_state === 'drain');
  await waitText(page, '#backend-app1 td[data-label="Admin state"]', /^drain$/);
  await page.waitForSelector('#backend-app1 button[aria-label="Enable app1"]');
  // Focus stays in the row, so the keyboard user goes on from where they were.
  assert.ok(await page.evaluate(() =>
    document.getElementById('backend-app1').contains(document.activeElement)));
  await shot(page, 'drain');
  assertNoConsoleErrors(errors);
});

test('a 412 is shown, not swallowed, with the state someone else left', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  // Hold the feed so that the page keeps showing what it loaded (a stale ETag).
  await page.route(/\/events\?since=/, () => {});
  await signIn(page, v, tokens.operator);
  await v.ok('PATCH', '/backends/app1', { weight: 9 }, MERGE); // someone else
  await waitText(page, '#backend-app1 td[data-label="Weight"]', /^1$/);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH'),
    page.click('#backend-app1 button[aria-label="Drain app1"]'),
  ]);
  assert.equal(resp.status(), 412);
  await waitText(page, '#backend-app1 [role="alert"]',
    /changed app1 first, so nothing was done.*weight 9/);
  await waitText(page, '#backend-app1 td[data-label="Weight"]', /^9$/);
  assert.equal((await v.ok('GET', '/backends/app1')).admin_state, 'enabled');
  await shot(page, 'precondition-failed');
  assertNoConsoleErrors(errors, [/status of 412/]);
});
