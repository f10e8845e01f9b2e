// The dashboard: sign-in, the model of what the page shows, the change feed that keeps it live
// (and the nodes' heartbeats, which the feed does not carry), and the one place where writes and
// their failures (412 above all) are handled. The views only draw the model and say which action
// a button runs.
import { Api, ApiError, Feed, href, pool } from './api.js';
import { Heartbeats } from './heartbeats.js';
import { tickTimes, link } from './dom.js';
import * as vips from './vips.js';
import * as nodes from './nodes.js';
import * as backends from './backends.js';
import * as checks from './checks.js';
import * as events from './events.js';

const TOKEN_KEY = 'vigil.token';
const EVENTS_SHOWN = 50;
// Event kind -> root link of its collection and the _embedded key of the items.
const KINDS = {
  node: { rel: 'vg:nodes', key: 'nodes' },
  vip: { rel: 'vg:vips', key: 'vips' },
  backend: { rel: 'vg:backends', key: 'backends' },
  check: { rel: 'vg:checks', key: 'checks' },
};

const $ = (id) => document.getElementById(id);

let api = null;
let feed = null;
let beats = null;
let model = null;

function newModel(root) {
  return {
    root,
    role: typeof root.role === 'string' ? root.role : null, // absent: show no actions
    revision: root.revision,
    items: { node: new Map(), vip: new Map(), backend: new Map(), check: new Map() },
    holders: new Map(), // vip name -> {href, doc, etag}
    events: [],
    eventFilter: null, // {actor, label, events, error}: the timeline shows one actor's events
    busy: new Set(), // action keys in flight
    notes: new Map(), // action key -> {kind: 'ok' | 'error' | 'conflict', text}
  };
}

// --- loading -----------------------------------------------------------------------------------

// GET one resource (conditionally) into the model; 404 removes it.
async function refreshItem(kind, name, url) {
  const map = model.items[kind];
  try {
    const r = await api.get(url);
    map.set(name, { href: url, doc: r.body, etag: r.etag });
    if (kind === 'vip') await refreshHolder(name, r.body);
  } catch (e) {
    if (e.status !== 404) throw e;
    map.delete(name);
    if (kind === 'vip') model.holders.delete(name);
  }
}

async function refreshHolder(name, vipDoc) {
  const l = link(vipDoc, 'vg:holder');
  if (!l) {
    model.holders.delete(name);
    return;
  }
  const r = await api.get(l.href);
  model.holders.set(name, { href: l.href, doc: r.body, etag: r.etag });
}

// Lists every collection from the root's links, then GETs each item for its own ETag (the one a
// write must send); unchanged ones come back as 304.
async function loadAll() {
  const found = {};
  for (const [kind, { rel, key }] of Object.entries(KINDS)) {
    const items = await api.collect(href(model.root, rel), key);
    found[kind] = items.map((d) => ({ kind, name: d.name, url: d._links.self.href }));
  }
  const fresh = { node: new Map(), vip: new Map(), backend: new Map(), check: new Map() };
  const old = model.items;
  model.items = fresh;
  try {
    await pool(Object.values(found).flat(), (it) => refreshItem(it.kind, it.name, it.url));
  } catch (e) {
    model.items = old;
    throw e;
  }
  for (const name of [...model.holders.keys()]) {
    if (!fresh.vip.has(name)) model.holders.delete(name);
  }
}

// The latest events (for the timeline) and the feed's current revision.
async function loadFeedHead() {
  const r = await api.request('GET', href(model.root, 'vg:events', {}));
  if (r.status !== 200) throw new ApiError(r.status, r.body);
  model.events = ((r.body._embedded && r.body._embedded.events) || []).slice(-EVENTS_SHOWN);
  model.revision = r.body.revision;
  return r.body.revision;
}

// --- the feed ----------------------------------------------------------------------------------

async function onEvents(list) {
  model.events.push(...list);
  model.events = model.events.slice(-EVENTS_SHOWN);
  const f = model.eventFilter;
  if (f) f.events = mergeEvents(f.events, list.filter((e) => events.matches(e, f.actor)));
  model.revision = list[list.length - 1].revision;
  const todo = new Map(); // the last event per object wins
  for (const e of list) {
    const about = e._links && e._links.about;
    if (KINDS[e.kind] && about) todo.set(`${e.kind}/${e.name}`, { ...e, url: about.href });
  }
  for (const e of todo.values()) {
    if (e.change !== 'deleted') continue;
    model.items[e.kind].delete(e.name);
    if (e.kind === 'vip') model.holders.delete(e.name);
  }
  render(); // the timeline and deletions first; the refetched objects follow
  await pool([...todo.values()].filter((e) => e.change !== 'deleted'),
    (e) => refreshItem(e.kind, e.name, e.url));
  render();
}

// a and b in revision order, each once, the latest EVENTS_SHOWN.
function mergeEvents(a, b) {
  const byRev = new Map([...a, ...b].map((e) => [e.revision, e]));
  return [...byRev.values()].sort((x, y) => x.revision - y.revision).slice(-EVENTS_SHOWN);
}

// Shows only the events of one actor ({actor: as /events?actor= takes it, label}), or everyone's
// (null). The feed keeps the timeline going meanwhile: what it brings for the actor is merged
// with what the filtered GET answered.
async function filterEvents(filter) {
  const m = model;
  if (!filter) {
    m.eventFilter = null;
    render();
    return;
  }
  const f = { ...filter, events: [], error: null };
  m.eventFilter = f;
  render();
  try {
    const r = await api.request('GET', href(m.root, 'vg:events', { actor: filter.actor }));
    if (r.status !== 200) throw new ApiError(r.status, r.body);
    f.events = mergeEvents(f.events, (r.body._embedded && r.body._embedded.events) || []);
  } catch (e) {
    f.error = failure(e);
  }
  if (m === model && m.eventFilter === f) render();
}

// 410: the feed no longer holds our revision; reload everything and go on from the new head.
async function onGone() {
  setConn('reloading', 'Catching up: reloading everything');
  const rev = await loadFeedHead();
  await loadAll();
  const f = model.eventFilter;
  if (f) filterEvents({ actor: f.actor, label: f.label }); // what we missed, again
  render();
  return rev;
}

async function onBack() {
  await loadAll();
  render();
}

function setConn(state, text) {
  const el = $('conn');
  el.className = `conn c-${state}`;
  el.textContent = text;
  $('banner').hidden = state !== 'retrying';
  $('banner').textContent = state === 'retrying' ? `${text}. What you see may be out of date.` : '';
  $('main').classList.toggle('stale', state === 'retrying');
}

let why = '';
function onState(state, info) {
  if (state === 'live') {
    setConn('live', 'Live');
  } else if (state === 'connecting') {
    setConn('retrying', `${why || 'vigild cannot be reached'}; reconnecting now…`);
  } else {
    const secs = Math.max(1, Math.round(info.ms / 1000));
    why = info.status ? `vigild answered ${info.status}` : 'vigild cannot be reached';
    setConn('retrying', `${why}; reconnecting in ${secs} s`);
  }
}

// --- heartbeats --------------------------------------------------------------------------------

// The nodes drawn, on screen or not, as heartbeat targets: each one's status link (whole: the node
// itself, when that is not linked).
function heartbeatTargets() {
  const target = (name) => {
    const e = model.items.node.get(name);
    const l = e && link(e.doc, 'vg:status');
    if (l) return { name, url: l.href, whole: false };
    return e ? { name, url: e.href, whole: true } : null;
  };
  const { on, off } = nodes.shown($('nodes'));
  return { on: on.map(target).filter(Boolean), off: off.map(target).filter(Boolean) };
}

// A node's status as its link shows it now. A heartbeat alone (only last_seen moved) updates the
// card in place; anything else new refetches the node and redraws its card (the feed announces
// that change too; whichever comes first). A 304 is the status seen before: only a later
// last_seen than the card shows is taken from it (the node may have been refetched meanwhile).
async function onHeartbeat(t, r) {
  const m = model;
  const entry = m.items.node.get(t.name);
  const st = t.whole ? r.body && r.body.status : r.body;
  if (!entry || !st || typeof st !== 'object') return;
  const shown = entry.doc.status || {};
  if (r.changed && !sameStatus(shown, st)) {
    await refreshItem('node', t.name, entry.href);
    if (m === model) render();
  } else if (later(st.last_seen, shown.last_seen)) {
    entry.doc = { ...entry.doc, status: { ...shown, last_seen: st.last_seen } };
    nodes.showSeen($('nodes'), t.name, st.last_seen);
  }
}

// Do two node statuses say the same, last_seen (and links) apart, whatever their key order?
function sameStatus(a, b) {
  const canon = (st) => {
    const o = { ...st };
    delete o.last_seen;
    delete o._links;
    return JSON.stringify(o, (k, v) => (v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]])) : v));
  };
  return canon(a) === canon(b);
}

function later(iso, than) {
  if (!iso) return false;
  return !than || Date.parse(iso) > Date.parse(than);
}

// --- actions -----------------------------------------------------------------------------------

function summarize(kind, entry) {
  const view = { vip: vips, backend: backends }[kind];
  return view && view.summarize ? view.summarize(entry, model) : '';
}

// Runs one write for the button identified by key. target {kind, name} is the object the page
// showed; after the write (or a failure) it is refetched so that the page shows the truth.
// A 412 says plainly that someone else changed it first and what it is now.
async function act(key, target, fn) {
  if (model.busy.has(key)) return;
  const m = model;
  m.busy.add(key);
  m.notes.delete(key);
  render();
  const entry = m.items[target.kind].get(target.name);
  let note = null;
  try {
    const text = await fn();
    if (text) note = { kind: 'ok', text };
  } catch (e) {
    note = e.status === 412 ? { kind: 'conflict', text: '' } : { kind: 'error', text: failure(e) };
  }
  try {
    if (entry && m === model) await refreshItem(target.kind, target.name, entry.href);
  } catch (e) {
    // the feed brings it later
  }
  if (m !== model) return; // signed out meanwhile
  if (note && note.kind === 'conflict') {
    const now = m.items[target.kind].get(target.name);
    note.text = `Someone else changed ${target.name} first, so nothing was done. ` +
      (now ? `It now shows: ${summarize(target.kind, now)}.` : 'It has been deleted.');
  }
  if (note) m.notes.set(key, note);
  m.busy.delete(key);
  render();
}

function failure(e) {
  if (e.status === 0) return `${e.message}; it may or may not have been done.`;
  const title = (e.problem && e.problem.title) || `HTTP ${e.status}`;
  return `${title}: ${e.message}`;
}

const ctx = {
  get model() { return model; },
  get canWrite() { return model.role === 'admin' || model.role === 'operator'; },
  act,
  filterEvents,
  dismiss(key) {
    model.notes.delete(key);
    render();
  },
  write: (method, url, body, etag, type) => api.write(method, url, body, etag, type),
};

// --- drawing -----------------------------------------------------------------------------------

function render() {
  if (!model) return;
  vips.render($('vips'), model, ctx);
  nodes.render($('nodes'), model, ctx);
  backends.render($('backends'), model, ctx);
  checks.render($('checks'), model, ctx);
  events.render($('events'), model, ctx);
  $('rev').textContent = `revision ${model.revision}`;
  tickTimes();
}

// --- signing in and out ------------------------------------------------------------------------

function showSignIn(message) {
  if (feed) feed.stop();
  if (beats) beats.stop();
  feed = null;
  beats = null;
  model = null;
  api = null;
  $('main').hidden = true;
  $('who').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
  setConn('idle', '');
  $('token').value = '';
  $('token').focus();
}

function onUnauthorized() {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn('The server no longer accepts this token (revoked?). Sign in again.');
}

async function signIn(token, quiet) {
  const err = $('signin-error');
  err.textContent = quiet ? '' : 'Signing in…';
  const client = new Api(token, () => {});
  let r;
  try {
    r = await client.request('GET', '/');
  } catch (e) {
    err.textContent = `Cannot reach vigild: ${e.message}.`;
    return;
  }
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    err.textContent = 'That token is not valid: the server does not know it (mistyped or revoked).';
    return;
  }
  if (r.status !== 200 || !r.body) {
    err.textContent = `vigild answered ${r.status}: ${(r.body && r.body.detail) || 'try again'}.`;
    return;
  }
  if (r.body.role === 'agent') {
    err.textContent = 'That is an agent token; sign in with an admin, operator or viewer token.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  err.textContent = '';
  client.onUnauthorized = onUnauthorized;
  await start(client, r.body);
}

async function start(client, root) {
  api = client;
  model = newModel(root);
  $('signin').hidden = true;
  $('main').hidden = false;
  $('who').hidden = false;
  $('role').textContent = model.role ? `${model.role}` : 'role unknown';
  $('role').className = `role r-${model.role || 'unknown'}`;
  setConn('loading', 'Loading…');
  let since = model.revision;
  let failed = false;
  try {
    since = await loadFeedHead();
    await loadAll();
    setConn('live', 'Live');
  } catch (e) {
    if (e.status === 401) return; // signed out already
    failed = true; // the feed retries, then reloads everything (onBack)
    setConn('retrying', `Loading failed (${e.message}); retrying`);
  }
  render();
  feed = new Feed(api, model.root._links['vg:events'].href, { onEvents, onGone, onState, onBack });
  feed.start(since, failed);
  beats = new Heartbeats(api, heartbeatTargets, onHeartbeat);
  beats.start();
}

function init() {
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    if (token) signIn(token, false);
  });
  $('events-filter-clear').addEventListener('click', (ev) => {
    ev.preventDefault();
    filterEvents(null);
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn('Signed out.');
  });
  setInterval(() => tickTimes(), 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    $('signin').hidden = true;
    signIn(saved, true).then(() => {
      if (!model) $('signin').hidden = false;
    });
  } else {
    $('token').focus();
  }
}

init();

