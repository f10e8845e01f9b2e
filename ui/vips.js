// The VIPs: each drawn as its members side by side, the VIP's address sitting on the node that
// holds it, members coloured by VRRP state. Actions come from links only: "Fail back" while the
// VIP carries vg:failback, "Move" to another member through vg:holder.
import { h, patch, when, badge, link, links, note } from './dom.js';

const STATES = ['MASTER', 'BACKUP', 'FAULT', 'INIT'];

function stateClass(state) {
  return STATES.includes(state) ? `s-${state.toLowerCase()}` : 's-unknown';
}

// One line for messages: who holds it and what was asked.
export function summarize(entry, model) {
  const st = entry.doc.status || {};
  const holder = model.holders.get(entry.doc.name);
  const parts = [st.holder ? `held by ${st.holder}` : 'held by nobody'];
  if (st.requested) parts.push(`requested ${st.requested}`);
  if (holder && holder.doc.state) parts.push(`move ${holder.doc.state}`);
  return parts.join(', ');
}

export function render(container, model, ctx) {
  const list = [...model.items.vip.values()].sort((a, b) => a.doc.name.localeCompare(b.doc.name));
  const version = (v) => {
    const hold = model.holders.get(v.doc.name);
    const nodeTags = (v.doc.members || []).map((m) => model.items.node.get(m.node)?.etag);
    const key = `vip:${v.doc.name}`;
    return JSON.stringify([v.etag, hold && hold.etag, nodeTags, ctx.canWrite,
      model.busy.has(key), model.notes.get(key)]);
  };
  patch(container, list, (v) => v.doc.name, version, (v) => card(v, model, ctx));
  document.getElementById('vips-empty').hidden = list.length > 0;
  document.getElementById('vips-count').textContent = `(${list.length})`;
}

function card(v, model, ctx) {
  const d = v.doc;
  const st = d.status || {};
  const key = `vip:${d.name}`;
  const holder = model.holders.get(d.name);
  const moving = holder && holder.doc.state === 'moving';
  const preempt = d.preempt ? `preempt after ${d.preempt_delay_ms || 0} ms` : 'no preempt';
  return h('article', { class: `card vip${st.holder ? '' : ' unheld'}`, id: `vip-${d.name}`,
    tabindex: '-1', 'aria-labelledby': `vip-${d.name}-h` },
  h('header', { class: 'card-head' },
    h('h3', { id: `vip-${d.name}-h`, text: d.name }),
    h('span', { class: 'addr', text: addrs(d).join(' ') }),
    d.group ? h('span', { class: 'group', title: 'sync group: its VIPs move together',
      text: `group ${d.group}` }) : null),
  h('p', { class: 'meta' },
    `VRRP v${d.version} · vrid ${d.vrid} · ${d.interface} · every ${d.advert_int_ms} ms · `,
    h('span', { class: d.preempt ? 'preempt-on' : 'preempt-off', text: preempt })),
  h('ul', { class: 'members', 'aria-label': `members of ${d.name}` },
    (d.members || []).map((m) => member(d, m, model))),
  (d.members || []).length === 0 ? h('p', { class: 'muted', text: 'No members yet.' }) : null,
  h('dl', { class: 'facts' },
    fact('Holder', st.holder || 'nobody'),
    fact('Preferred', st.preferred || '—'),
    fact('Requested', st.requested || 'nothing'),
    fact('Move', holder ? moveText(holder.doc) : '—', moving ? 'moving' : null),
    fact('Since', when(st.since, 'not held yet'))),
  ctx.canWrite ? actions(v, model, ctx) : null,
  note(model, ctx, key));
}

// Every address of the VIP (a list since schema 4), then the excluded ones, marked.
function addrs(d) {
  return (d.addresses || []).concat((d.excluded_addresses || []).map((a) => `(${a})`));
}

function fact(label, value, cls) {
  return h('div', { class: `fact${cls ? ` ${cls}` : ''}` },
    h('dt', { text: label }), h('dd', {}, value));
}

function moveText(hd) {
  if (hd.state === 'moving') return `moving to ${hd.requested} (move #${hd.move_id})…`;
  if (hd.state === 'settled') return hd.move_id ? `settled (move #${hd.move_id} done)` : 'settled';
  return hd.state || '—';
}

// A member drawn as a node: its state colour, agent light, priorities; the holder carries the VIP.
function member(d, m, model) {
  const st = d.status || {};
  const ms = (st.members && st.members[m.node]) || {};
  const state = ms.state || 'unknown';
  const isHolder = st.holder === m.node;
  const node = model.items.node.get(m.node);
  const inst = node && node.doc.status && node.doc.status.vrrp && node.doc.status.vrrp[d.name];
  const eff = ms.priority === null || ms.priority === undefined ? '—' : ms.priority;
  const agent = ms.agent || 'unknown';
  return h('li', { class: `member ${stateClass(state)}${isHolder ? ' holder' : ''}` },
    isHolder ? h('div', { class: 'vip-tag', title: `${d.name} is on ${m.node}` },
      h('span', { class: 'vip-dot', 'aria-hidden': 'true' }),
      (d.addresses || []).map((a) => a.split('/')[0]).join(' ')) : null,
    h('div', { class: 'server' },
      h('span', { class: `led a-${agent}`, title: `agent ${agent}`, 'aria-hidden': 'true' }),
      h('a', { class: 'node-name', href: `#node-${m.node}`, text: m.node }),
      st.preferred === m.node ? h('span', { class: 'pref', title: 'preferred holder', text: '★' })
        : null),
    h('div', { class: 'rack', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')),
    h('div', { class: 'state-line' }, badge(state, state.toLowerCase()),
      inst ? h('span', { class: 'small' }, ' ', when(inst.since)) : null),
    h('div', { class: 'prio' },
      h('span', { title: 'configured priority', text: `prio ${m.priority}` }),
      h('span', { class: 'eff', title: 'effective (advertised) priority',
        text: ` / ${eff} eff.` })),
    h('div', { class: 'small', text: `agent ${agent}` }),
    isHolder ? h('span', { class: 'sr-only', text: `holds ${(d.addresses || []).join(', ')}` })
      : null);
}

function actions(v, model, ctx) {
  const d = v.doc;
  const key = `vip:${d.name}`;
  const dis = model.busy.has(key) ? 'true' : null; // stays focusable; act() ignores repeats
  const holder = model.holders.get(d.name);
  const fb = link(d, 'vg:failback');
  const holderLink = link(d, 'vg:holder');
  const others = links(d, 'vg:member').filter((m) => m.name && m.name !== (d.status || {}).holder);
  const out = [];
  if (fb && holder) {
    out.push(h('button', {
      class: 'primary', type: 'button', 'data-fid': 'failback', 'aria-disabled': dis,
      title: fb.title || `Move to ${fb.name}`, text: `Fail back to ${fb.name}`,
      onclick: () => ctx.act(key, { kind: 'vip', name: d.name }, async () => {
        await ctx.write('PUT', fb.href, { node: fb.name }, holder.etag);
        return `Asked ${fb.name} to take ${d.name} back.`;
      }),
    }));
  }
  if (holderLink && holder && others.length) {
    const sel = h('select', { 'data-fid': 'move-to', id: `move-${d.name}` },
      others.map((m) => h('option', { value: m.name, text: m.name })));
    out.push(h('form', {
      class: 'move', onsubmit: (ev) => {
        ev.preventDefault();
        const target = sel.value;
        ctx.act(key, { kind: 'vip', name: d.name }, async () => {
          await ctx.write('PUT', holderLink.href, { node: target }, holder.etag);
          return `Asked ${target} to take ${d.name}.`;
        });
      },
    },
    h('label', { for: `move-${d.name}`, text: 'Move to' }), sel,
    h('button', { type: 'submit', 'data-fid': 'move', 'aria-disabled': dis, text: 'Move',
      'aria-label': `Move ${d.name}` })));
  }
  return out.length ? h('div', { class: 'actions' }, out) : null;
}
