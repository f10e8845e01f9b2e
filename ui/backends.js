// The backends: health (and why), admin state and weight. Enable / drain / disable are merge
// patches of the backend's own resource (its self link), sent with the ETag the row shows.
import { h, patch, when, badge, link, note } from './dom.js';

const ADMIN = [
  ['enabled', 'Enable'],
  ['drain', 'Drain'],
  ['disabled', 'Disable'],
];

export function summarize(entry) {
  const d = entry.doc;
  const health = (d.status && d.status.health) || 'unknown';
  return `admin state ${d.admin_state}, weight ${d.weight}, health ${health}`;
}

export function render(tbody, model, ctx) {
  const list = [...model.items.backend.values()]
    .sort((a, b) => a.doc.name.localeCompare(b.doc.name));
  const version = (b) => {
    const key = `backend:${b.doc.name}`;
    return JSON.stringify([b.etag, ctx.canWrite, model.busy.has(key), model.notes.get(key)]);
  };
  patch(tbody, list, (b) => b.doc.name, version, (b) => row(b, model, ctx));
  document.getElementById('backends-actions-h').hidden = !ctx.canWrite;
  document.getElementById('backends-empty').hidden = list.length > 0;
  const down = list.filter((b) => (b.doc.status || {}).health === 'down').length;
  document.getElementById('backends-count').textContent =
    `(${list.length}${down ? ` · ${down} down` : ''})`;
}

// An address as it goes before :port (IPv6 in brackets).
function host(address) {
  return address.includes(':') ? `[${address}]` : address;
}

function cell(label, ...children) {
  return h('td', { 'data-label': label }, children);
}

function row(b, model, ctx) {
  const d = b.doc;
  const st = d.status || {};
  const health = st.health || 'unknown';
  return h('tr', { id: `backend-${d.name}`, class: `h-${health} adm-${d.admin_state}`,
    tabindex: '-1' },
  h('th', { scope: 'row', 'data-label': 'Backend', text: d.name }),
  cell('VIP', h('a', { href: `#vip-${d.vip}`, text: d.vip })),
  cell('Address', h('code', { text: `${host(d.address)}:${d.port}` })),
  cell('Health', badge(health, health),
    st.reason ? h('span', { class: 'reason', text: ` ${st.reason}` }) : null,
    st.since ? h('span', { class: 'small' }, ' · ', when(st.since)) : null),
  cell('Admin state', badge(d.admin_state, `adm-${d.admin_state}`)),
  cell('Weight', String(d.weight)),
  ctx.canWrite ? cell('Actions', actions(b, model, ctx), note(model, ctx, `backend:${d.name}`))
    : null);
}

function actions(b, model, ctx) {
  const d = b.doc;
  const self = link(d, 'self');
  if (!self) return null;
  const key = `backend:${d.name}`;
  const dis = model.busy.has(key) ? 'true' : null; // stays focusable; act() ignores repeats
  return h('div', { class: 'actions' }, ADMIN.filter(([state]) => state !== d.admin_state)
    .map(([state, verb]) => h('button', {
      type: 'button', 'data-fid': `admin-${state}`, 'aria-disabled': dis, text: verb,
      'aria-label': `${verb} ${d.name}`,
      onclick: () => ctx.act(key, { kind: 'backend', name: d.name }, async () => {
        await ctx.write('PATCH', self.href, { admin_state: state }, b.etag,
          'application/merge-patch+json');
        return null;
      }),
    })));
}
