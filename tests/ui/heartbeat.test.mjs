// A heartbeat that reports nothing new is not a change: the feed stays silent about it, yet the
// node's card shows its last heartbeat moving, because the page asks each node's status link every
// few seconds (conditionally, never a tight poll) and updates the card in place.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, signIn, shot, eventually, assertNoConsoleErrors } from './harness.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SEEN = '#node-edge1 dd.seen';

// What the card shows as the last heartbeat: the relative text, which ticks every second, and
// the exact time behind it (the datetime, shown on hover), which moves only with a heartbeat.
function shownSeen(page) {
  return page.$eval(SEEN, (dd) => {
    const t = dd.querySelector('time');
    return { text: dd.textContent, at: t ? t.getAttribute('datetime') : null,
      title: t ? t.title : null };
  });
}

test('an identical agent report moves the card\'s last heartbeat, with no event in the feed',
  async (t) => {
    const { v, tokens, page, errors } = await setup(t);
    await v.ok('POST', '/nodes', { name: 'edge1', address: '198.18.0.21', interface: 'eth0' });
    const agent = (await v.ok('POST', '/tokens', { role: 'agent', node: 'edge1',
      description: 'ui test agent' })).secret;
    const report = { vrrp: {}, vips_held: [], agent_version: 'ui-test', ip_nonlocal_bind: false };
    const first = await v.ok('PUT', '/nodes/edge1/status', report, { token: agent });

    const asked = []; // the If-None-Match of each GET of edge1's status, and when
    page.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === '/nodes/edge1/status') {
        asked.push({ at: Date.now(), inm: r.headers()['if-none-match'] || null });
      }
    });
    const since = Date.now();
    await signIn(page, v, tokens.viewer);
    await page.waitForSelector(`${SEEN} time`);
    const before = await shownSeen(page);
    assert.equal(before.at, first.last_seen);
    await page.$eval('#node-edge1', (el) => { el.dataset.mark = 'same card'; });
    const revShown = await page.textContent('#rev');

    await sleep(2000);
    const rev = (await v.ok('GET', '/events')).revision;
    const second = await v.ok('PUT', '/nodes/edge1/status', report, { token: agent });
    assert.ok(Date.parse(second.last_seen) > Date.parse(first.last_seen), 'the report was seen');
    const feed = await v.ok('GET', `/events?since=${rev}`);
    assert.equal(feed.revision, rev, 'an identical report is no event');
    assert.deepEqual(feed._embedded?.events ?? [], []);

    const after = await eventually(async () => {
      const s = await shownSeen(page);
      return s.at !== before.at && s;
    }, 10000, 'the shown last heartbeat moving');
    assert.equal(after.at, second.last_seen);
    assert.notEqual(after.title, before.title);
    assert.ok(after.title.includes(second.last_seen), after.title);
    assert.match(after.text, /^(just now|\d+ s ago)$/);

    // In place: the same card element, no redraw; and the page saw no event either.
    assert.equal(await page.$eval('#node-edge1', (el) => el.dataset.mark), 'same card');
    assert.equal(await page.textContent('#rev'), revShown);
    assert.equal((await v.ok('GET', '/events')).revision, rev);

    // Conditional GETs every few seconds, one at a time: no tight poll.
    assert.ok(asked.length >= 1);
    assert.ok(asked.slice(1).every((a) => a.inm), 'every GET after the first is conditional');
    const elapsedS = (Date.now() - since) / 1000;
    assert.ok(asked.length <= Math.ceil(elapsedS / 5) + 1,
      `${asked.length} status GETs in ${elapsedS.toFixed(1)} s`);
    for (let i = 1; i < asked.length; i++) {
      assert.ok(asked[i].at - asked[i - 1].at > 3000, 'a few seconds between two GETs');
    }
    await shot(page, 'heartbeat-moved');
    assertNoConsoleErrors(errors);
  });
