// The health checks: what each one probes, and its latest result on every node that runs it.
import { h, patch, when, badge } from './dom.js';

export function render(tbody, model) {
  const list = [...model.items.check.values()].sort((a, b) => a.doc.name.localeCompare(b.doc.name));
  patch(tbody, list, (c) => c.doc.name, (c) => c.etag || JSON.stringify(c.doc), row);
  document.getElementById('checks-empty').hidden = list.length > 0;
  document.getElementById('checks-count').textContent = `(${list.length})`;
}

function dur(ms) {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function probe(d) {
  switch (d.type) {
  case 'http':
  case 'https':
    return `${d.type.toUpperCase()} ${d.path || '/'}${d.port ? ` :${d.port}` : ''} → ` +
      `${d.expect_status}`;
  case 'script':
    return (d.script || []).join(' ');
  default:
    return `TCP${d.port ? ` :${d.port}` : ''}`;
  }
}

function row(c) {
  const d = c.doc;
  const results = Object.entries((d.status && d.status.results) || {})
    .sort(([a], [b]) => a.localeCompare(b));
  const target = d.backend
    ? h('span', {}, 'backend ', h('a', { href: `#backend-${d.backend}`, text: d.backend }))
    : h('span', {}, 'node ', h('a', { href: `#node-${d.node}`, text: d.node }));
  return h('tr', { id: `check-${d.name}`, tabindex: '-1' },
    h('th', { scope: 'row', 'data-label': 'Check', text: d.name }),
    h('td', { 'data-label': 'Probe' }, h('code', { text: probe(d) })),
    h('td', { 'data-label': 'Target' }, target,
      d.node && d.weight ? h('span', { class: 'small', text: ` (weight ${d.weight})` }) : null),
    h('td', { 'data-label': 'Timing', class: 'small',
      text: `every ${dur(d.interval_ms)}, timeout ${dur(d.timeout_ms)}, ` +
        `rise ${d.rise}, fall ${d.fall}` }),
    h('td', { 'data-label': 'Results' }, results.length
      ? h('ul', { class: 'results' }, results.map(([node, r]) => h('li', {},
        h('a', { href: `#node-${node}`, text: node }), ' ', badge(r.state || 'unknown'),
        r.output ? h('span', { class: 'reason', text: ` ${r.output}` }) : null,
        r.at ? h('span', { class: 'small' }, ' · ', when(r.at)) : null)))
      : h('span', { class: 'muted', text: 'no result yet' })));
}
