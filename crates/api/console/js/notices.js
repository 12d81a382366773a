// The notices of a closed or cancelled auction (won and lost) and where each delivery
// stands, under the live view's result; refreshed on demand.

import { api } from './api.js';
import { bidderLink } from './bidder-names.js';
import { h } from './dom.js';
import { showProblem } from './problems.js';
import { tableWrap } from './widgets.js';

const REASONS = { 2: 'cancelled', 100: 'below the reserve', 102: 'outbid' };

export function noticesPanel(auctionId, signal) {
  const body = h('tbody', { 'data-test': 'notices-body' });
  const empty = h('p', { class: 'muted', hidden: true, 'data-test': 'notices-empty' },
    'No notices: no bidder of this auction has a webhook.');
  const error = h('div', { class: 'error', role: 'alert', hidden: true });
  let polls = 0;
  const load = async () => {
    let r;
    try { r = await api('GET', `/api/auctions/${auctionId}/notices`, undefined, { signal }); } catch { return; }
    if (!r.ok) { showProblem(error, r.problem); return; }
    const items = r.data?.items ?? [];
    const redraw = () => body.replaceChildren(...items.map((n) => noticeRow(n, redraw)));
    redraw();
    empty.hidden = items.length > 0;
    // Just settled: deliveries are under way; look again for a while.
    if (items.some((n) => n.state === 'pending') && polls++ < 30 && !signal?.aborted) setTimeout(load, 1000);
  };
  load();
  return h('section', { class: 'notices', 'data-test': 'notices', 'aria-labelledby': 'notices-title' },
    h('h3', { id: 'notices-title' }, 'Notices sent ',
      h('button', { type: 'button', class: 'btn btn-small', 'data-test': 'notices-refresh', onclick: load }, 'Refresh')),
    error,
    tableWrap('Notices', h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['Notice', 'Bidder', 'State', 'Attempts'].map((t) => h('th', { scope: 'col' }, t)))),
      body)),
    empty);
}

function noticeRow(n, redraw) {
  const won = n.event === 'auction.won';
  return h('tr', { 'data-test': 'notice-row', 'data-event': n.event },
    h('td', {}, won ? 'won' : `lost (${REASONS[n.loss_reason] ?? n.loss_reason})`),
    h('td', {}, bidderLink(n.bidder_id, redraw)),
    h('td', {}, h('span', { class: `badge notice-${n.state}`, 'data-test': 'notice-state', title: n.last_error ?? '' }, n.state)),
    h('td', { class: 'num' }, String(n.attempts)));
}
