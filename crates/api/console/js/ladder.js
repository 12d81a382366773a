// The bid ladder: one table row per bid, newest first.

import { money } from './decimal.js';
import { h } from './dom.js';
import { fmtClock } from './time.js';
import { timeEl } from './widgets.js';

export const LADDER_LIMIT = 50; // bids read per catch-up request
export const LADDER_MAX_ROWS = 200; // more rows would make each redraw slow during bursts

// `fresh` ids get a highlight: they arrived while the page was watching.
export function ladderRows(bidsDesc, auction, fresh, winning) {
  return bidsDesc.slice(0, LADDER_MAX_ROWS).map((b) => ladderRow(b, auction, fresh, winning));
}

function ladderRow(b, a, fresh, winning) {
  return h('tr', {
    'data-test': 'ladder-row', 'data-id': b.id, class: fresh.has(b.id) ? 'fresh' : null,
  },
  h('td', { class: 'num' }, `#${b.id}`),
  h('td', { class: 'num' }, `#${b.bidder_id}`),
  h('td', { class: 'num amount', 'data-test': 'ladder-amount' }, money(b.amount, a?.currency),
    b.id === winning ? [' ', h('span', { class: 'badge lead' }, a?.result ? 'winner' : 'leading')] : null),
  h('td', {}, timeEl(b.created_at, {}, fmtClock(b.created_at))));
}
