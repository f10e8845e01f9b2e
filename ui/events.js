// The timeline: the latest changes from the feed, newest first, each linking to what it is about.
import { h, patch, when, badge } from './dom.js';

const ANCHORED = new Set(['node', 'vip', 'backend', 'check']);

export function render(list, model) {
  const newest = [...model.events].reverse();
  patch(list, newest, (e) => String(e.revision), () => '1', item);
  document.getElementById('events-empty').hidden = newest.length > 0;
}

function item(e) {
  return h('li', { class: `ev ev-${e.change}`, title: `revision ${e.revision}` },
    h('span', { class: 'ev-what' }, badge(e.change, `ev-${e.change}`), ` ${e.kind} `,
      ANCHORED.has(e.kind) && e.change !== 'deleted'
        ? h('a', { href: `#${e.kind}-${e.name}`, text: e.name })
        : h('strong', { text: e.name })),
    when(e.time));
}
