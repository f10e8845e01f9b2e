// Heartbeats: an agent's report that changes nothing is not a write (no event in the feed, no new
// ETag on any collection), so the feed never says that a node's last_seen moved; only the node and
// its status link show it. Every few seconds, while the page is visible, this GETs the status of
// the nodes drawn (If-None-Match: 304 when nothing moved) and hands each answer to the app.
import { pool } from './api.js';

export class Heartbeats {
  // api: the client. targets(): the nodes drawn as {on, off} (on screen or not), each a list of
  // {name, url, ...} in page order. onAnswer(target, {body, etag, changed}): one node's answer;
  // it may be async and may throw (the error is dropped: the card keeps what it shows).
  // everyMs: the period; perRound: at most this many GETs a round, the nodes on screen first,
  // then the others in turn; parallel: at most this many GETs at once.
  constructor(api, targets, onAnswer, { everyMs = 5000, perRound = 50, parallel = 3 } = {}) {
    this.api = api;
    this.targets = targets;
    this.onAnswer = onAnswer;
    this.everyMs = everyMs;
    this.perRound = perRound;
    this.parallel = parallel;
    this.running = false;
    this.busy = false; // a round in flight: never two, so never two GETs for one node
    this.next = 0; // where the next round starts among the nodes off screen
    this.timer = null;
    this.onVisibility = () => this.round(); // back on screen: what it shows may be old
  }

  start() {
    this.running = true;
    this.timer = setInterval(() => this.round(), this.everyMs);
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  stop() {
    this.running = false;
    clearInterval(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  // One round, unless one is still going or nobody can see the page.
  async round() {
    if (!this.running || this.busy || document.visibilityState !== 'visible') return;
    this.busy = true;
    try {
      await pool(this.pick(), (t) => this.one(t), this.parallel);
    } finally {
      this.busy = false;
    }
  }

  // The nodes on screen, then the next of the others, perRound at most in all.
  pick() {
    const { on, off } = this.targets();
    const list = on.slice(0, this.perRound);
    const room = Math.min(this.perRound - list.length, off.length);
    for (let i = 0; i < room; i++) list.push(off[(this.next + i) % off.length]);
    this.next = off.length ? (this.next + room) % off.length : 0;
    return list;
  }

  async one(target) {
    try {
      const r = await this.api.get(target.url, { timeoutMs: this.everyMs * 2 });
      if (this.running) await this.onAnswer(target, r);
    } catch (e) {
      // Quietly: the server away, the node just deleted (the feed says so) or a refetch that
      // failed. The card keeps the last value; the next round asks again.
    }
  }
}
