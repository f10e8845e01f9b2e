// Audit in the timeline: every event says who caused it (an operator's token by its role and
// description, an agent by its node, vigild by the part that wrote), and clicking who shows only
// that actor's events, kept live by the feed, until "Show everyone's".
import test from 'node:test';
import assert from 'node:assert/strict';
import { setup, signIn, shot, waitText, eventually, assertNoConsoleErrors } from './harness.mjs';

// The timeline as [what, who] pairs, newest first.
function timeline(page) {
  return page.$$eval('#events li', (lis) => lis.map((li) => [
    li.querySelector('.ev-what').textContent.replace(/\s+/g, ' ').trim(),
    li.querySelector('.ev-who').textContent.replace(/\s+/g, ' ').trim(),
  ]));
}

test('a move by an operator shows who made it, and the timeline filters by that actor',
  async (t) => {
    const { v, tokens, page, errors } = await setup(t);
    await signIn(page, v, tokens.viewer);

    // The operator moves web back to lb1: the timeline names the operator's token.
    const moved = await v.req('PUT', '/vips/web/holder', { node: 'lb1' },
      { token: tokens.operator });
    assert.equal(moved.status, 202, JSON.stringify(moved.body));
    await waitText(page, '#events li:first-child', /updated\s*vip\s*web/);
    await waitText(page, '#events li:first-child .ev-who', /^by operator · ui test operator$/);
    // An agent's report is its node's; what the seed wrote is the bootstrap admin token's.
    const agent = (await v.ok('POST', '/tokens', { role: 'agent', node: 'lb3',
      description: 'ui test agent' })).secret;
    await v.ok('PUT', '/nodes/lb3/status', { vrrp: { web: { state: 'FAULT', priority: 0 } },
      vips_held: [] }, { token: agent });
    await waitText(page, '#events li:first-child .ev-who', /^by agent of lb3 · ui test agent$/);
    const all = await timeline(page);
    assert.ok(all.some(([what, w]) => what === 'created vip web' &&
      w === 'by admin · from VIGIL_ADMIN_TOKEN'), JSON.stringify(all));
    assert.ok(all.some(([what, w]) => what === 'updated vip web' &&
      w === 'by operator · ui test operator'), JSON.stringify(all));

    // Click the operator: only the operator's events remain.
    await page.click('#events li .ev-who a.actor[data-actor]:text("operator")');
    await waitText(page, '#events-filter', /Only events by operator · ui test operator/);
    await eventually(async () => {
      const shown = await timeline(page);
      return shown.length === 1 && shown[0][0] === 'updated vip web' && shown;
    }, 2000, 'only the operator\'s event');

    // The feed keeps it live: someone else's write stays out, the operator's next one comes in.
    await v.ok('PATCH', '/backends/app2', { weight: 5 },
      { headers: { 'Content-Type': 'application/merge-patch+json' } });
    const patched = await v.req('PATCH', '/backends/app1', { weight: 3 },
      { token: tokens.operator, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await waitText(page, '#events li:first-child', /updated\s*backend\s*app1/);
    const shown = await timeline(page);
    assert.deepEqual(shown.map(([what]) => what), ['updated backend app1', 'updated vip web']);
    assert.ok(shown.every(([, w]) => w === 'by operator · ui test operator'));
    await shot(page, 'timeline-by-operator');

    // Everyone's again, the admin's write included.
    await page.click('#events-filter-clear');
    await waitText(page, '#events', /updated\s*backend\s*app2/);
    assert.equal(await page.isHidden('#events-filter'), true);
    assertNoConsoleErrors(errors);
  });
