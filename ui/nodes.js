// The nodes: agent liveness and last heartbeat, ip_nonlocal_bind (reported and wanted), the VRRP
// state of each of its VIPs, and why an instance is in FAULT. The last heartbeat moves in place
// (showSeen), fed by heartbeats.js rather than the feed.
import { h, patch, when, badge } from './dom.js';

export function render(container, model) {
  const list = [...model.items.node.values()].sort((a, b) => a.doc.name.localeCompare(b.doc.name));
  patch(container, list, (n) => n.doc.name, (n) => n.etag || JSON.stringify(n.doc), card);
  document.getElementById('nodes-empty').hidden = list.length > 0;
  const down = list.filter((n) => (n.doc.status || {}).agent === 'down').length;
  document.getElementById('nodes-count').textContent =
    `(${list.length}${down ? ` · ${down} agent${down > 1 ? 's' : ''} down` : ''})`;
}

// The names of the node cards drawn, in page order: {on, off} the screen.
export function shown(container) {
  const on = [];
  const off = [];
  for (const el of container.children) {
    const r = el.getBoundingClientRect();
    (r.bottom > 0 && r.top < window.innerHeight ? on : off).push(el.dataset.key);
  }
  return { on, off };
}

// Shows iso as the last heartbeat of node name in its card, without redrawing the card: a
// heartbeat is not a change.
export function showSeen(container, name, iso) {
  const card = [...container.children].find((el) => el.dataset.key === name);
  const dd = card && card.querySelector('dd.seen');
  if (dd) dd.replaceChildren(when(iso));
}

function onOff(v) {
  return v === true ? 'on' : v === false ? 'off' : 'unknown';
}

function card(n) {
  const d = n.doc;
  const st = d.status || {};
  const agent = st.agent || 'unknown';
  const vrrp = Object.entries(st.vrrp || {}).sort(([a], [b]) => a.localeCompare(b));
  const faults = vrrp.filter(([, i]) => i.state === 'FAULT');
  const want = d.ip_nonlocal_bind === undefined || d.ip_nonlocal_bind === null
    ? 'left alone' : `wanted ${onOff(d.ip_nonlocal_bind)}`;
  const nlbMismatch = typeof d.ip_nonlocal_bind === 'boolean' &&
    typeof st.ip_nonlocal_bind === 'boolean' && d.ip_nonlocal_bind !== st.ip_nonlocal_bind;
  const labels = Object.entries(d.labels || {});
  return h('article', { class: `card node a-${agent}`, id: `node-${d.name}`, tabindex: '-1',
    'aria-labelledby': `node-${d.name}-h` },
  h('header', { class: 'card-head' },
    h('h3', { id: `node-${d.name}-h` },
      h('span', { class: `led a-${agent}`, 'aria-hidden': 'true' }), d.name),
    badge(`agent ${agent}`, agent)),
  h('p', { class: 'meta' }, `${d.address} on ${d.interface}`,
    st.agent_version ? ` · agent ${st.agent_version}` : ''),
  h('dl', { class: 'facts' },
    h('div', { class: 'fact' }, h('dt', { text: 'Last heartbeat' }),
      h('dd', { class: 'seen' }, when(st.last_seen))),
    h('div', { class: `fact${nlbMismatch ? ' warn' : ''}` }, h('dt', { text: 'ip_nonlocal_bind' }),
      h('dd', {}, `${onOff(st.ip_nonlocal_bind)} (${want})`)),
    h('div', { class: 'fact' }, h('dt', { text: 'Holds' }),
      h('dd', { text: (st.vips_held || []).join(', ') || 'nothing' }))),
  vrrp.length
    ? h('ul', { class: 'vrrp', 'aria-label': `VRRP instances on ${d.name}` }, vrrp.map(([vip, i]) =>
      h('li', { class: `inst s-${String(i.state).toLowerCase()}` },
        h('a', { href: `#vip-${vip}`, text: vip }), ' ',
        badge(i.state, String(i.state).toLowerCase()),
        ` prio ${i.priority} · `, when(i.since))))
    : h('p', { class: 'muted', text: 'No VRRP instance reported.' }),
  faults.length ? h('div', { class: 'faults', role: 'note' },
    faults.map(([vip]) => h('p', {}, h('strong', { text: `FAULT on ${vip}: ` }),
      faultReason(st.last_transition, vip)))) : null,
  transition(st.last_transition),
  labels.length ? h('p', { class: 'labels' },
    labels.map(([k, v]) => h('span', { class: 'chip', text: `${k}=${v}` }))) : null);
}

function faultReason(t, vip) {
  if (t && t.vip === vip && t.to === 'FAULT') return t.reason || 'no reason reported';
  return 'no reason reported';
}

function transition(t) {
  if (!t) return null;
  return h('p', { class: 'small' }, `Last change: ${t.vip} ${t.from} → ${t.to}`,
    t.reason ? ` (${t.reason})` : '', ', ', when(t.at));
}
