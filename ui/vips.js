// The VIPs: each drawn as its members side by side, the VIP's address sitting on the node that
// holds it, members coloured by VRRP state. Actions come from links only: "Fail back" while the
// VIP carries vg:failback, "Move" to another member through vg:holder. The issue-10 settings
// (unicast, tracked links, notify, GARP, vmac, sync group) are shown where they differ from plain
// keepalived defaults, with what each member's agent reports of them (link states, last notify).
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
    // The card also shows its sync group's other VIPs and (as a fallback) node-status data.
    return JSON.stringify([v.etag, hold && hold.etag, nodeTags, groupPeers(v.doc, list),
      ctx.canWrite, model.busy.has(key), model.notes.get(key)]);
  };
  patch(container, list, (v) => v.doc.name, version, (v) => card(v, model, ctx, list));
  document.getElementById('vips-empty').hidden = list.length > 0;
  document.getElementById('vips-count').textContent = `(${list.length})`;
}

// The names of the other VIPs of d's sync group among list (sorted), [] without a group.
function groupPeers(d, list) {
  if (!d.group) return [];
  return list.filter((o) => o.doc.group === d.group && o.doc.name !== d.name)
    .map((o) => o.doc.name);
}

function card(v, model, ctx, list) {
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
    d.group ? group(d, groupPeers(d, list)) : null),
  h('p', { class: 'meta' },
    `VRRP v${d.version} · vrid ${d.vrid} · ${d.interface} · every ${d.advert_int_ms} ms · `,
    h('span', { class: d.preempt ? 'preempt-on' : 'preempt-off', text: preempt }), ' · ',
    transport(d, model)),
  options(d),
  h('ul', { class: 'members', 'aria-label': `members of ${d.name}` },
    (d.members || []).map((m) => member(d, m, model))),
  (d.members || []).length === 0 ? h('p', { class: 'muted', text: 'No members yet.' }) : null,
  notify(d),
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

// "group NAME with a, b": the other VIPs of the sync group, each a link to its card.
function group(d, peers) {
  const with_ = peers.length
    ? [' with ', peers.map((n, i) => [i ? ', ' : '', h('a', { href: `#vip-${n}`, text: n })])]
    : ' (no other VIP yet)';
  return h('span', { class: 'group', title: 'sync group: its VIPs change state and move together' },
    `group ${d.group}`, with_);
}

// How advertisements travel: multicast, or unicast between the members' node addresses and to
// the external peers (VRRP routers vigil does not manage).
function transport(d, model) {
  if (!d.unicast) return h('span', { class: 'mcast', text: 'multicast' });
  const names = (d.members || []).map((m) => m.node);
  const where = names.map((n) => {
    const a = model.items.node.get(n)?.doc.address;
    return a ? `${n} ${a}` : n;
  });
  const peers = d.peers || [];
  return h('span', { class: 'ucast', title: 'advertisements by unicast between ' +
      `${where.join(', ') || 'no member'}${peers.length ? ` and to ${peers.join(', ')}` : ''}` },
  `unicast to ${names.join(', ') || 'no member'}`,
  peers.length ? `${names.length ? ' and ' : ''}external ${peers.join(', ')}` : '');
}

// The RFC 5798 7.3 virtual MAC: 00:00:5e:00:01:VRID (IPv6 00:00:5e:00:02:VRID).
export function vmacOf(d) {
  const v6 = (d.addresses || []).some((a) => a.includes(':'));
  return `00:00:5e:00:0${v6 ? 2 : 1}:${Number(d.vrid).toString(16).padStart(2, '0')}`;
}

// A weight as the change it makes while a link is down: 0 is FAULT, else a signed priority step.
function weightText(w) {
  if (!w) return 'FAULT if down';
  return `${w > 0 ? '+' : '−'}${Math.abs(w)} prio if down`;
}

// The second meta line: tracked links, vmac, GARP when not the defaults (5, 5 s, off); null when
// the VIP uses none of them.
function options(d) {
  const parts = [];
  const track = d.track_interfaces || [];
  if (track.length) {
    parts.push(h('span', { class: 'tracks' }, 'tracks ',
      track.map((t, i) => [i ? ', ' : '', h('span', { class: 'iface', text: t.interface }),
        ` (${weightText(t.weight)})`])));
  }
  if (d.vmac) {
    parts.push(h('span', { title: `keepalived's use_vmac: a macvlan vrrp.${d.vrid} on ` +
      `${d.interface} with the virtual MAC` }, 'vmac ', h('code', { text: vmacOf(d) })));
  }
  const garp = [d.garp_repeat ?? 5, d.garp_delay_s ?? 5, d.garp_refresh_s ?? 0];
  if (garp[0] !== 5 || garp[1] !== 5 || garp[2] !== 0) {
    parts.push(h('span', { class: 'garp', title: 'gratuitous ARP / unsolicited NA on becoming ' +
      'master (keepalived garp_master_repeat, _delay, _refresh)' },
    `GARP ×${garp[0]}, ${garp[1] ? `again after ${garp[1]} s` : 'no second burst'}, ` +
      `${garp[2] ? `refresh every ${garp[2]} s` : 'no refresh'}`));
  }
  if (!parts.length) return null;
  return h('p', { class: 'meta opts' }, parts.map((p, i) => [i ? ' · ' : '', p]));
}

// The notify script's argv and each member's last run as its agent reports it; null when the VIP
// has no script and no member reported a run.
function notify(d) {
  const st = d.status || {};
  const runs = (d.members || []).map((m) => [m.node, ((st.members || {})[m.node] || {}).notify])
    .filter(([, r]) => r);
  if (!d.notify && !runs.length) return null;
  return h('div', { class: 'notify' },
    h('p', { class: 'argv' }, 'Notify ',
      d.notify ? h('code', { text: d.notify.join(' ') }) : h('span', { class: 'muted',
        text: 'none (earlier runs below)' }),
      d.notify ? h('span', { class: 'small', text: ` + INSTANCE ${d.name} state priority` })
        : null),
    runs.length ? h('ul', { class: 'runs',
      'aria-label': `last notify run per member of ${d.name}` },
    runs.map(([node, r]) => notifyRun(node, r)))
      : h('p', { class: 'small', text: 'No run reported yet.' }));
}

// One member's last notify run: what it announced, its result in words, when; the output when it
// did not succeed (for a refusal, the reason).
function notifyRun(node, r) {
  const [word, kind] = runResult(r);
  const out = r.output && kind !== 'n-ok' ? r.output : '';
  const short = out.length > 140 ? `${out.slice(0, 140)}…` : out;
  return h('li', { class: `run ${kind}` },
    h('a', { href: `#node-${node}`, text: node }), ` ${r.state || '?'}: `, badge(word, kind),
    out ? h('span', { class: 'out', title: out, text: ` ${short}` }) : null,
    r.coalesced ? h('span', { class: 'small',
      text: ` · ${r.coalesced} dropped from a full queue` }) : null,
    ' · ', when(r.at, 'time unknown'));
}

function runResult(r) {
  switch (r.result) {
    case 'exit':
      return r.exit_status === 0 ? ['exit 0', 'n-ok'] : [`exit ${r.exit_status ?? '?'}`, 'n-fail'];
    case 'signal': return [`killed by signal ${r.signal ?? '?'}`, 'n-fail'];
    case 'timeout': return ['timed out', 'n-fail'];
    case 'refused': return ['refused', 'n-refused'];
    default: return [String(r.result || 'unknown'), 'n-fail'];
  }
}

// A member's tracked links as its agent reports them (the VIP's status, else the node's own).
function trackOf(ms, inst) {
  return ms.track || (inst && inst.track) || [];
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
    trackLine(d, ms, inst),
    isHolder ? h('span', { class: 'sr-only', text: `holds ${(d.addresses || []).join(', ')}` })
      : null);
}

// The member's tracked links, "eth1 up, eth2 down": the word carries the state, colour only adds.
function trackLine(d, ms, inst) {
  const track = trackOf(ms, inst);
  if (!track.length) return (d.track_interfaces || []).length
    ? h('div', { class: 'track small', text: 'links not reported' }) : null;
  return h('ul', { class: 'track', 'aria-label': 'tracked links' },
    track.map((t) => h('li', { class: `t-${t.state}` }, `${t.interface} `,
      h('strong', { text: t.state }))));
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
