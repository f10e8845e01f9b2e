// The API client. It knows one URL, the root "/", and finds every other one by following links
// (HAL _links, RFC 6570 templates). It remembers each representation with its ETag, refetches
// with If-None-Match (a 304 reuses what it has), sends If-Match on every write, and long-polls
// the change feed (/events?since=REV&wait=S) with backoff while the server is away.
import { setServerDate } from './dom.js';

// An HTTP answer that is not a success, or no answer at all (status 0). problem is the RFC 9457
// body when the server sent one.
export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message || (problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
  }
}

// Expands the RFC 6570 forms the API uses: {name} and {?a,b} (undefined variables dropped).
export function expand(template, vars = {}) {
  return template.replace(/\{([?]?)([^}]+)\}/g, (_, op, names) => {
    const parts = names.split(',').filter((n) => vars[n] !== undefined && vars[n] !== null);
    if (op === '?') {
      if (!parts.length) return '';
      return '?' + parts.map((n) => `${n}=${encodeURIComponent(vars[n])}`).join('&');
    }
    return parts.map((n) => encodeURIComponent(vars[n])).join(',');
  });
}

// The href of rel in doc, expanded when templated; throws when the link is absent.
export function href(doc, rel, vars) {
  let l = doc && doc._links && doc._links[rel];
  if (Array.isArray(l)) l = l[0];
  if (!l) throw new ApiError(0, null, `the API does not link ${rel} here`);
  return l.templated ? expand(l.href, vars) : l.href;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs fn over items, at most n at a time (a browser opens about 6 connections per origin).
export async function pool(items, fn, n = 6) {
  const list = [...items];
  let i = 0;
  const worker = async () => {
    while (i < list.length) await fn(list[i++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, list.length) }, worker));
}

export class Api {
  // token: the bearer secret; onUnauthorized: called once when the server answers 401.
  constructor(token, onUnauthorized) {
    this.token = token;
    this.onUnauthorized = onUnauthorized || (() => {});
    this.cache = new Map(); // href -> {etag, body}
  }

  // One request. Returns {status, etag, body, headers}; network failure or timeout: ApiError 0.
  async request(method, url, { body, type, ifMatch, ifNoneMatch, timeoutMs = 15000 } = {}) {
    const headers = { Accept: 'application/hal+json', Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = type || 'application/json';
    if (ifMatch) headers['If-Match'] = ifMatch;
    if (ifNoneMatch) headers['If-None-Match'] = ifNoneMatch;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    let r;
    try {
      r = await fetch(url, {
        method, headers, signal: ctl.signal, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, null, ctl.signal.aborted ? 'the server did not answer in time'
        : 'the server cannot be reached');
    } finally {
      clearTimeout(timer);
    }
    setServerDate(r.headers.get('Date'));
    const text = r.status === 204 || r.status === 304 ? '' : await r.text();
    let parsed = null;
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = null; }
    }
    if (r.status === 401) this.onUnauthorized();
    return { status: r.status, etag: r.headers.get('ETag'), body: parsed, headers: r.headers };
  }

  // GET with the cached ETag as If-None-Match. Returns {body, etag, changed}. Not 200/304:
  // ApiError (404 included: callers decide what a vanished resource means).
  async get(url, opts = {}) {
    const cached = this.cache.get(url);
    const r = await this.request('GET', url, { ifNoneMatch: cached && cached.etag, ...opts });
    if (r.status === 304 && cached) return { body: cached.body, etag: cached.etag, changed: false };
    if (r.status !== 200) {
      this.cache.delete(url);
      throw new ApiError(r.status, r.body);
    }
    if (r.etag) this.cache.set(url, { etag: r.etag, body: r.body });
    return { body: r.body, etag: r.etag, changed: true };
  }

  // Every item of a collection (_embedded[key]), following its "next" links page by page.
  async collect(url, key) {
    const items = [];
    for (let next = url; next;) {
      const { body } = await this.get(next);
      items.push(...((body._embedded && body._embedded[key]) || []));
      next = body._links && body._links.next ? body._links.next.href : null;
    }
    return items;
  }

  // A conditional write: If-Match is the ETag the page showed. Returns {status, etag, body};
  // anything but 2xx: ApiError carrying the problem (412 when someone changed it first).
  async write(method, url, body, etag, type) {
    const r = await this.request(method, url, { body, type, ifMatch: etag });
    if (r.status < 200 || r.status > 299) throw new ApiError(r.status, r.body);
    this.cache.delete(url);
    return r;
  }
}

// The change feed, long-polled: GET /events?since=REV&wait=S, one request at a time, never a
// tight loop. Callbacks: onEvents(list) for each non-empty answer, onGone() on 410 (returns the
// revision to go on from), onState(state, detail) with state 'live' | 'retrying' | 'connecting',
// onBack() when the server answers again after an outage.
export class Feed {
  constructor(api, template, handlers, waitS = 25) {
    this.api = api;
    this.template = template;
    this.h = handlers;
    this.waitS = waitS;
    this.running = false;
  }

  // Follows the feed from revision since; away: the page could not load, so the first answer
  // counts as the server coming back (onBack reloads).
  start(since, away = false) {
    this.since = since;
    this.running = true;
    this.loop(away);
  }

  stop() {
    this.running = false;
  }

  async loop(away) {
    let delayMs = 1000;
    while (this.running) {
      // After an outage, ask without waiting: the first answer tells us the server is back.
      const url = expand(this.template, { since: this.since, wait: away ? 0 : this.waitS });
      if (away) this.h.onState('connecting', {});
      let ok = false;
      let status = 0;
      try {
        const r = await this.api.request('GET', url, { timeoutMs: (this.waitS + 15) * 1000 });
        status = r.status;
        if (!this.running || status === 401) return; // the app signs out on 401
        if (status === 410) {
          this.since = await this.h.onGone();
          this.h.onState('live');
          ok = true;
        } else if (status === 200) {
          if (away) await this.h.onBack();
          this.h.onState('live');
          const events = (r.body._embedded && r.body._embedded.events) || [];
          if (events.length) {
            this.since = events[events.length - 1].revision;
            await this.h.onEvents(events);
          }
          ok = true;
        }
      } catch (e) {
        ok = false; // no answer, or the refetches it triggered failed: try again later
      }
      if (!this.running) return;
      if (ok) {
        delayMs = 1000;
        away = false;
        continue;
      }
      // Server away or unwell: back off 1, 2, 4 ... 30 s, with jitter so that many dashboards
      // do not come back in step.
      const wait = Math.round(delayMs * (0.8 + Math.random() * 0.4));
      this.h.onState('retrying', { ms: wait, status });
      away = true;
      await sleep(wait);
      delayMs = Math.min(delayMs * 2, 30000);
    }
  }
}
