// The timeline: the latest changes from the feed, newest first, each linking to what it is about
// and naming who caused it. Clicking who shows only that actor's events (/events?actor=), which
// the feed then keeps up to date, until "Show everyone's".
import { h, patch, when, badge } from './dom.js';

const ANCHORED = new Set(['node', 'vip', 'backend', 'check']);

export function render(list, model, ctx) {
  const f = model.eventFilter;
  const newest = [...(f ? f.events : model.events)].reverse();
  patch(list, newest, (e) => String(e.revision), () => '1', (e) => item(e, ctx));
  document.getElementById('events-empty').hidden = newest.length > 0;
  document.getElementById('events-empty').textContent =
    f ? 'Nothing by them among the latest events.' : 'Nothing has happened yet.';
  const bar = document.getElementById('events-filter');
  bar.hidden = !f;
  document.getElementById('events-filter-text').textContent = f
    ? (f.error ? `Cannot show events by ${f.label}: ${f.error}` : `Only events by ${f.label}`)
    : '';
}

// The /events?actor= filter that selects an actor's events: an agent by its node (any of its
// tokens), another token by its id, vigild by the part that wrote. null: unknown (old events).
export function actorFilter(a) {
  if (!a) return null;
  if (a.type === 'system') return `system:${a.name}`;
  return a.node ? `node:${a.node}` : a.token;
}

// Who, in words: "operator · alice", "agent of lb1 · agent on lb1", "vigild · liveness-sweep".
export function actorLabel(a) {
  if (!a) return 'unknown';
  if (a.type === 'system') return `vigild · ${a.name}`;
  const role = a.node ? `agent of ${a.node}` : a.role;
  return a.description ? `${role} · ${a.description}` : `${role} · token ${a.token}`;
}

// Does event e belong to the timeline of filter (as actorFilter makes them)?
export function matches(e, filter) {
  const a = e.actor;
  if (!a) return false;
  if (filter.startsWith('node:')) return a.type === 'token' && a.node === filter.slice(5);
  if (filter === 'system') return a.type === 'system';
  if (filter.startsWith('system:')) return a.type === 'system' && a.name === filter.slice(7);
  return a.type === 'token' && a.token === filter;
}

function who(e, ctx) {
  const filter = actorFilter(e.actor);
  const label = actorLabel(e.actor);
  if (!filter) {
    return h('span', { class: 'ev-who', title: 'recorded before vigild kept track of who',
      text: 'by someone unknown' });
  }
  // A link, not a button: it changes what the timeline shows, never the cluster.
  return h('span', { class: `ev-who a-${e.actor.type}` }, 'by ',
    h('a', { href: '#events-h', class: 'actor', 'data-actor': filter,
      title: `Show only the events by ${label}`, text: label,
      onclick: (ev) => {
        ev.preventDefault();
        ctx.filterEvents({ actor: filter, label });
      } }));
}

function item(e, ctx) {
  return h('li', { class: `ev ev-${e.change}`, title: `revision ${e.revision}` },
    h('span', { class: 'ev-what' }, badge(e.change, `ev-${e.change}`), ` ${e.kind} `,
      ANCHORED.has(e.kind) && e.change !== 'deleted'
        ? h('a', { href: `#${e.kind}-${e.name}`, text: e.name })
        : h('strong', { text: e.name })),
    when(e.time),
    who(e, ctx));
}
