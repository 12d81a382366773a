// The live view's "Details" list and "Result" panel, built from one auction object.

import { bidderLink, bidderText } from './bidder-names.js';
import { FINAL } from './constants.js';
import { money } from './decimal.js';
import { fill, h } from './dom.js';
import { countdown, timeEl } from './widgets.js';

const row = (label, value, test) => [h('dt', {}, label), h('dd', { 'data-test': test }, value)];

export function detailRows(a, redraw) {
  const english = a.kind === 'english';
  return [
    row('ID', String(a.id), 'detail-id'),
    row('Title', a.title, 'detail-title'),
    row('Kind', a.kind, 'detail-kind'),
    row('Status', a.status, 'detail-status'),
    row('Currency', a.currency, 'detail-currency'),
    row('Reserve price', money(a.reserve_price, a.currency), 'detail-reserve_price'),
    english ? row('Minimum increment', money(a.min_increment, a.currency), 'detail-min_increment') : null,
    english ? row('Extend window', `${a.extend_secs} s`, 'detail-extend_secs') : null,
    row('Starts at', timeEl(a.starts_at), 'detail-starts_at'),
    row('Ends at', [timeEl(a.ends_at, { 'data-test': 'ends-at', id: 'ends-at' }), ' ',
      h('span', { class: 'muted' }, '(', countdown(a, { id: 'time-left' }), ')')], 'detail-ends_at'),
    row('Bids', String(a.bid_count), 'bid-count'),
    row('Highest bid', highestBidText(a, english, redraw), 'highest-bid'),
    row('Created at', timeEl(a.created_at), 'detail-created_at'),
  ].filter(Boolean).flat();
}

function highestBidText(a, english, redraw) {
  if (a.highest_bid) {
    return `${money(a.highest_bid.amount, a.currency)} (bid #${a.highest_bid.bid_id}, ${bidderText(a.highest_bid.bidder_id, redraw)})`;
  }
  return english || FINAL.has(a.status) ? 'none' : 'sealed until closed';
}

// 'closing' has no result yet but is no longer open: say so rather than hide the panel.
export function renderResult(panel, a, redraw) {
  if (a.status === 'closing') {
    panel.hidden = false;
    fill(panel, h('h2', { id: 'result-title' }, 'Result'), h('p', { class: 'muted' }, 'Settling…'));
  } else if (a.result) {
    panel.hidden = false;
    fill(panel, h('h2', { id: 'result-title' }, 'Result'), ...resultBody(a, redraw));
  } else if (a.status === 'cancelled') {
    panel.hidden = false;
    fill(panel, h('h2', { id: 'result-title' }, 'Result'), h('p', {}, 'Cancelled: no winner.'));
  } else {
    panel.hidden = true;
  }
}

function resultBody(a, redraw) {
  const r = a.result;
  const ref = (n) => (n == null ? '—' : `#${n}`);
  return [
    r.winner_bidder_id == null ? h('p', { class: 'no-winner', 'data-test': 'no-winner' }, 'No winner.') : null,
    h('dl', { class: 'details' },
      h('dt', {}, 'Winner bidder'), h('dd', { 'data-test': 'result-winner' }, bidderLink(r.winner_bidder_id, redraw)),
      h('dt', {}, 'Winning bid'), h('dd', { 'data-test': 'result-bid' }, ref(r.winning_bid_id)),
      h('dt', {}, 'Clearing price'), h('dd', { 'data-test': 'result-price' }, r.clearing_price == null ? '—' : money(r.clearing_price, a.currency)),
      h('dt', {}, 'Closed at'), h('dd', { 'data-test': 'result-closed_at' }, timeEl(r.closed_at)),
      h('dt', {}, 'Win notice'), h('dd', {}, h('span', { class: `badge notice-${r.notice}`, 'data-test': 'result-notice' }, r.notice))),
  ];
}
