// The bid ladder: one table row per bid, newest first.

import { bidderLink } from './bidder-names.js';
import { money } from './decimal.js';
import { h } from './dom.js';
import { fmtClock } from './time.js';
import { timeEl } from './widgets.js';

export const LADDER_LIMIT = 50; // bids read per catch-up request
export const LADDER_MAX_ROWS = 200; // more rows would make each redraw slow during bursts

// `fresh` ids get a highlight: they arrived while the page was watching. `redraw` runs
// when a bidder's name arrives.
export function ladderRows(bidsDesc, auction, fresh, winning, redraw) {
  return bidsDesc.slice(0, LADDER_MAX_ROWS).map((b) => ladderRow(b, auction, fresh, winning, redraw));
}

function ladderRow(b, a, fresh, winning, redraw) {
  return h('tr', {
    'data-test': 'ladder-row', 'data-id': b.id, class: fresh.has(b.id) ? 'fresh' : null,
  },
  h('td', { class: 'num' }, `#${b.id}`),
  h('td', { 'data-test': 'ladder-bidder' }, bidderLink(b.bidder_id, redraw)),
  h('td', { class: 'num amount', 'data-test': 'ladder-amount' }, money(b.amount, a?.currency),
    b.id === winning ? [' ', h('span', { class: 'badge lead' }, a?.result ? 'winner' : 'leading')] : null),
  h('td', {}, timeEl(b.created_at, {}, fmtClock(b.created_at))));
}
