// Small DOM helpers shared by the views: element building, keyed list patching that keeps focus,
// and relative times ("12 s ago") with the exact time on hover. No inline styles or handlers:
// the page runs under a CSP that allows only its own script and stylesheet.

// Builds an element. attrs: class, text, on{Event} (listeners), dataset via data-*, booleans;
// children: nodes, strings, or arrays of them (null/false skipped).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// Replaces the children of container by one element per item, in order, rebuilding an item's
// element only when version(item) changed. Focus inside a rebuilt element moves to the element
// with the same data-fid in the new one, and a select keeps the value the user picked.
export function patch(container, items, key, version, render) {
  const old = new Map();
  for (const el of container.children) if (el.dataset.key) old.set(el.dataset.key, el);
  let prev = null;
  for (const item of items) {
    const k = key(item);
    const v = version(item);
    let el = old.get(k);
    if (!el || el.dataset.version !== v) {
      const fresh = render(item);
      fresh.dataset.key = k;
      fresh.dataset.version = v;
      if (el) {
        const fid = focusedFid(el);
        keepSelections(el, fresh);
        el.replaceWith(fresh);
        // The focused control may be gone (an action no longer linked): keep focus nearby.
        if (fid !== null) (fid && fresh.querySelector(`[data-fid="${fid}"]`) || fresh).focus();
      }
      el = fresh;
    }
    old.delete(k);
    const want = prev ? prev.nextElementSibling : container.firstElementChild;
    if (want !== el) container.insertBefore(el, want);
    prev = el;
  }
  for (const el of old.values()) el.remove();
}

// The data-fid of the focused control inside el ('' for el itself or a control without one).
function focusedFid(el) {
  const a = document.activeElement;
  if (!a || !el.contains(a)) return null;
  return a.dataset.fid || '';
}

function keepSelections(from, to) {
  for (const sel of from.querySelectorAll('select[data-fid]')) {
    const twin = to.querySelector(`select[data-fid="${sel.dataset.fid}"]`);
    if (twin && [...twin.options].some((o) => o.value === sel.value)) twin.value = sel.value;
  }
}

// The server's clock minus ours, learnt from Date headers when they differ by more than 2 s.
let skewMs = 0;
export function setServerDate(httpDate) {
  const t = Date.parse(httpDate || '');
  if (!Number.isNaN(t)) {
    const d = t - Date.now();
    skewMs = Math.abs(d) > 2000 ? d : 0;
  }
}

// "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago".
export function relative(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((Date.now() + skewMs - t) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function exact(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })} (${iso})`;
}

// A <time> that shows a relative time, the exact one on hover; null/absent gives "never".
export function when(iso, never = 'never') {
  if (!iso) return h('span', { class: 'muted', text: never });
  return h('time', { class: 'rel', datetime: iso, title: exact(iso), text: relative(iso) });
}

// Refreshes every relative time on the page (called once a second).
export function tickTimes(root = document) {
  for (const t of root.querySelectorAll('time.rel')) {
    const text = relative(t.getAttribute('datetime'));
    if (t.textContent !== text) t.textContent = text;
  }
}

// A coloured badge with its word: colour is never the only carrier of meaning.
export function badge(word, kind = String(word).toLowerCase()) {
  return h('span', { class: `badge b-${kind}`, text: word });
}

// The first link of rel in a HAL document (links may be arrays), or null.
export function link(doc, rel) {
  const l = doc && doc._links && doc._links[rel];
  if (!l) return null;
  return Array.isArray(l) ? l[0] || null : l;
}

export function links(doc, rel) {
  const l = doc && doc._links && doc._links[rel];
  if (!l) return [];
  return Array.isArray(l) ? l : [l];
}

// The outcome of the last action on this card: a 412 or an error is an alert, never swallowed.
export function note(model, ctx, key) {
  const n = model.notes.get(key);
  if (!n) return null;
  return h('div', { class: `note n-${n.kind}`, role: n.kind === 'ok' ? 'status' : 'alert' },
    h('p', { text: n.text }),
    h('button', { type: 'button', class: 'link', 'data-fid': 'dismiss', text: 'Dismiss',
      onclick: () => ctx.dismiss(key) }));
}
