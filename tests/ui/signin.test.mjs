// The dashboard at /ui/: signing in, the seeded cluster drawn, a viewer's page without buttons,
// the headers it is served with (CSP, strong ETag), and a phone-width layout.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, ADMIN, setup, signIn, shot, waitText, assertNoConsoleErrors } from './harness.mjs';

test('a bad token is refused plainly; a good one shows the seeded cluster', async (t) => {
  const { v, page, errors } = await setup(t);
  await page.goto(`${v.url}/ui/`);
  await page.fill('input[type="password"][name="token"]', 'not-a-token');
  await page.click('#signin-form button[type="submit"]');
  await waitText(page, '#signin-error', /not valid/);
  assert.equal(await page.isVisible('#main'), false);

  await page.fill('input[name="token"]', ADMIN);
  await page.click('#signin-form button[type="submit"]');
  await page.waitForSelector('#vip-web');
  for (const n of ['lb1', 'lb2', 'lb3']) await page.waitForSelector(`#node-${n}`);
  await waitText(page, '#vip-web', /198\.18\.0\.100\/24/);
  await waitText(page, '#vip-web .member.holder', /lb2/);
  await waitText(page, '#vip-web .member.holder .vip-tag', /198\.18\.0\.100/);
  await waitText(page, '#vip-web .member.holder', /MASTER/);
  await waitText(page, '#node-lb1', /BACKUP/);
  await waitText(page, '#backend-app1', /198\.18\.1\.11:8080/);
  await waitText(page, '#backend-app2 td[data-label="Weight"]', /^2$/);
  await waitText(page, '#check-app1-http', /HTTP \/health/);
  await waitText(page, '#events', /created\s*vip\s*web/);
  await waitText(page, '#role', /admin/);

  // The token lives in sessionStorage only: no localStorage, no cookie.
  const store = await page.evaluate(() => ({
    session: sessionStorage.getItem('vigil.token'), local: localStorage.length,
    cookie: document.cookie,
  }));
  assert.deepEqual(store, { session: ADMIN, local: 0, cookie: '' });
  // A reload keeps the session (same tab), without asking again.
  await page.reload();
  await page.waitForSelector('#vip-web');
  assert.equal(await page.isVisible('#signin'), false);
  await shot(page, 'signin-cluster');
  // The refused sign-in is the only failed load Chromium reports.
  assertNoConsoleErrors(errors, [/status of 401/]);
});

test('a viewer sees no buttons at all, even where the API links an action', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  const vip = await v.ok('GET', '/vips/web');
  assert.ok(vip._links['vg:failback'], 'the seed links vg:failback');
  await signIn(page, v, tokens.viewer);
  await waitText(page, '#role', /viewer/);
  await waitText(page, '#vip-web .member.holder', /lb2/);
  assert.equal(await page.locator('main button').count(), 0);
  assert.equal(await page.locator('main select, main form, main input').count(), 0);
  assert.equal(await page.isVisible('#backends-actions-h'), false);
  await shot(page, 'viewer-no-buttons');
  assertNoConsoleErrors(errors);
});

test('the page is served with a CSP, strong ETags and 304s, and only its own files', async (t) => {
  const { v, tokens, page, errors } = await setup(t);
  const r = await fetch(`${v.url}/ui/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const csp = r.headers.get('content-security-policy') || '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  const etag = r.headers.get('etag');
  assert.match(etag || '', /^"[0-9a-f]+"$/, 'a strong ETag');
  assert.ok(r.headers.get('last-modified'));
  const again = await fetch(`${v.url}/ui/`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);

  const types = { 'app.js': /^text\/javascript/, 'app.css': /^text\/css/,
    'favicon.svg': /^image\/svg\+xml/, 'index.html': /^text\/html/ };
  for (const [file, re] of Object.entries(types)) {
    for (const time of ['first', 'second']) { // the second may come from the server's cache
      const f = await fetch(`${v.url}/ui/${file}`);
      assert.equal(f.status, 200, file);
      assert.match(f.headers.get('content-type'), re, file);
      assert.equal(f.headers.get('content-security-policy'), csp, `${file}: CSP, ${time} time`);
      assert.equal(f.headers.get('x-content-type-options'), 'nosniff', file);
      await f.arrayBuffer();
    }
  }
  for (const bad of ['nope.js', '.hidden', '..%2fapi-spec%2fopenapi.yaml']) {
    const f = await fetch(`${v.url}/ui/${bad}`);
    // A "%2F" in a segment is refused before routing (400, the HTTP hardening); were it
    // decoded, "../" would leave /ui/ and the router would answer 401 like any unknown path.
    const refused = f.status === 404 || (bad.startsWith('..') && [400, 401].includes(f.status));
    assert.ok(refused, `${bad}: ${f.status}`);
    await f.arrayBuffer();
  }

  // Nothing the CSP would block: no inline script, style attribute or handler in the files.
  const dir = path.join(ROOT, 'ui');
  for (const file of await readdir(dir)) {
    const text = await readFile(path.join(dir, file), 'utf8');
    if (file.endsWith('.html')) {
      assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${file}: inline script`);
      assert.doesNotMatch(text, /\sstyle\s*=|<style/i, `${file}: inline style`);
      assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${file}: inline handler`);
    }
    if (file.endsWith('.js')) {
      assert.doesNotMatch(text, /setAttribute\(\s*['"]style|innerHTML|eval\(|new Function/,
        `${file}: needs unsafe-inline/eval`);
    }
  }

  // In the browser: the policy arrives with the page, and nothing violates it.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const resp = await page.goto(`${v.url}/ui/`);
  assert.match(resp.headers()['content-security-policy'] || '', /script-src 'self'/);
  await page.fill('input[name="token"]', tokens.operator);
  await page.press('input[name="token"]', 'Enter');
  await page.waitForSelector('#vip-web');
  await page.waitForSelector('#conn.c-live');
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await shot(page, 'csp');
  assertNoConsoleErrors(errors);
});

test('readable at a phone\'s width: no sideways scrolling, actions still reachable', async (t) => {
  const { v, tokens, page, errors } = await setup(t, { viewport: { width: 390, height: 844 } });
  await signIn(page, v, tokens.operator);
  await waitText(page, '#vip-web .member.holder', /lb2/);
  const fit = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fit, 'the page fits the phone width');
  assert.ok(await page.isVisible('#vip-web button:has-text("Fail back")'));
  assert.ok(await page.isVisible('#backend-app1 button[aria-label="Drain app1"]'));
  await shot(page, 'phone');
  assertNoConsoleErrors(errors);
});
