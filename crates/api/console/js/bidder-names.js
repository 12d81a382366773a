// Bidders' names, for wherever a bidder appears (ladder, highest bid, result, notices).
// Each id is asked for once (GET /api/bidders/{id}); until the name arrives, and for an id
// the server does not know, the bidder shows as #id. Names are always text, never markup.

import { api } from './api.js';
import { h } from './dom.js';

const names = new Map(); // id -> name
const asked = new Set(); // ids asked for (in flight or answered)

// The bidder as a link to its page: its name when known, else #id. `redraw` is called once
// when a name this page did not know arrives.
export function bidderLink(id, redraw) {
  if (id == null) return '—';
  const name = names.get(id);
  if (name === undefined) learn(id, redraw);
  return h('a', { href: `#/bidders/${id}`, class: 'bidder', 'data-test': 'bidder-name', 'data-id': id },
    name ?? `#${id}`);
}

// The bidder's name as plain text (for sentences), or #id.
export function bidderText(id, redraw) {
  if (id == null) return '—';
  const name = names.get(id);
  if (name === undefined) learn(id, redraw);
  return name ?? `#${id}`;
}

// A bidder read elsewhere (its page): remember its current name.
export function rememberBidder(b) {
  names.set(b.id, b.name);
  asked.add(b.id);
}

async function learn(id, redraw) {
  if (asked.has(id)) return;
  asked.add(id);
  let r;
  try { r = await api('GET', `/api/bidders/${id}`); } catch { return; }
  if (!r.ok || !r.data) return;
  names.set(id, r.data.name);
  redraw?.();
}
