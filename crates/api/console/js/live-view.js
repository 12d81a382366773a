// One auction, live (#/auctions/{id}): details, result, bid ladder and price chart, kept
// current by the event stream. Reads (GET) fill what the stream does not replay (the
// first load, a gap after a reconnect, sealed bids), so the view merges both sources.

import { api } from './api.js';
import { cancelControl } from './cancel.js';
import { priceChart } from './chart.js';
import { FINAL } from './constants.js';
import { h } from './dom.js';
import { openEventStream } from './event-stream.js';
import { LADDER_LIMIT, LADDER_MAX_ROWS, ladderRows } from './ladder.js';
import { detailRows, renderResult } from './live-details.js';
import { addBid, mergeAuction, sortedBids, winningBidId, withBid } from './live-model.js';
import { noticesPanel } from './notices.js';
import { problemMessage, showProblem } from './problems.js';
import { now, sleep } from './time.js';
import { tableWrap, timeEl } from './widgets.js';

const NOTICE_POLLS = 10; // re-reads (2 s apart) while a closed auction's win notice is pending
const RENDER_BATCH_MS = 50;
const SEALED_REREAD_MS = 300;

/**
 * Everything the live view knows, in one object that every function below takes, so the
 * order in which stream events and reads change it can be followed in one place.
 * @typedef {object} LiveView
 * @property {string} id             the auction id, from the URL
 * @property {AbortController} ac    aborted when the view is left: ends reads, stream and polls
 * @property {AbortSignal} signal    ac.signal
 * @property {object|null} auction   the auction as last merged (see live-model.js)
 * @property {Map<number, object>} bids  bid id -> bid, from reads and the stream
 * @property {boolean} loadedOnce    the first bid read is done: bids new after it are "fresh"
 * @property {boolean} finished      known closed or cancelled: the stream is stopped
 * @property {{stop(): void}|null} stream  the event stream, once started
 * @property {number} extensions     end-time extensions seen on the stream
 * @property {boolean|null} actionsFor  whether the drawn actions offer Cancel (null: none drawn)
 * @property {string} refreshedAt    the "status@edge" the clock last re-read the auction for
 * @property {boolean} noticePolling the win-notice poll has been started
 * @property {number|null} bidsTimer   pending re-read of sealed bids
 * @property {number|null} renderTimer pending batched redraw
 * @property {Set<number>} pendingFresh  bids that redraw will highlight
 * @property {boolean} pendingAuction   that redraw includes the details
 * @property {Object<string, Element>} el  the view's elements (see buildElements)
 */

export function liveView(root, idText) {
  const ac = new AbortController();
  /** @type {LiveView} */
  const v = {
    id: idText, ac, signal: ac.signal, auction: null, bids: new Map(), loadedOnce: false,
    finished: false, stream: null, extensions: 0, actionsFor: null, refreshedAt: '',
    noticePolling: false, bidsTimer: null, renderTimer: null, pendingFresh: new Set(),
    pendingAuction: false, el: buildElements(idText),
  };
  document.title = `Auction #${v.id} · gavel admin`;
  root.append(...layout(v.el));
  setStream(v, 'connecting');
  begin(v);
  return { cleanup: () => cleanup(v), tick: () => tick(v) };
}

// ---------------------------------------------------------------------------
// Building and drawing

function buildElements(id) {
  return {
    heading: h('h1', { tabindex: '-1', id: 'auction-title' }, `Auction #${id}`),
    status: h('span', { class: 'badge', id: 'auction-status', 'data-test': 'auction-status' }, '…'),
    stream: h('span', { class: 'stream', id: 'stream-state', 'data-test': 'stream-state', 'data-state': 'connecting', role: 'status' }),
    actions: h('div', { class: 'live-actions' }),
    liveError: h('div', { id: 'live-error', 'data-test': 'live-error', class: 'error', role: 'alert', hidden: true }),
    cancelError: h('div', { id: 'cancel-error', 'data-test': 'cancel-error', class: 'error', role: 'alert', hidden: true }),
    extendedNote: h('p', { id: 'extended-note', 'data-test': 'extended-note', class: 'note', role: 'status', hidden: true }),
    details: h('dl', { class: 'details', id: 'auction-details', 'data-test': 'auction-details' }),
    result: h('section', { class: 'panel result', id: 'result', 'data-test': 'result', 'aria-labelledby': 'result-title', hidden: true }),
    chartBox: h('div', { class: 'chart-box' }),
    ladderBody: h('tbody', { id: 'ladder-body' }),
    ladderEmpty: h('p', { class: 'muted', 'data-test': 'ladder-empty' }, 'No bids yet.'),
    ladderMore: h('p', { class: 'muted small', hidden: true }),
  };
}

function layout(el) {
  return [
    h('div', { class: 'view-head' }, el.heading,
      h('div', { class: 'head-meta' }, el.status, h('span', { class: 'stream-label' }, 'Stream ', el.stream))),
    el.liveError, el.cancelError, el.extendedNote, el.actions,
    h('div', { class: 'live-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'details-title' },
        h('h2', { id: 'details-title' }, 'Details'), el.details),
      el.result,
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'chart-title' },
        h('h2', { id: 'chart-title' }, 'Price over time'), el.chartBox),
      h('section', { class: 'panel ladder-panel', 'aria-labelledby': 'ladder-title' },
        h('h2', { id: 'ladder-title' }, 'Bid ladder'),
        tableWrap('Bid ladder', h('table', { class: 'data', id: 'ladder', 'data-test': 'ladder' },
          h('thead', {}, h('tr', {}, ['Bid', 'Bidder', 'Amount', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
          el.ladderBody)),
        el.ladderEmpty, el.ladderMore)),
  ];
}

// The word is both the text and `data-state`; the detail (why it is reconnecting or
// failed) goes in the tooltip.
function setStream(v, state, detail) {
  const el = v.el.stream;
  el.setAttribute('data-state', state);
  el.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), state);
  el.title = detail || '';
}

function renderAuction(v) {
  const a = v.auction;
  if (!a) return;
  const el = v.el;
  el.heading.textContent = `Auction #${a.id}: ${a.title}`;
  document.title = `Auction #${a.id} · gavel admin`;
  el.status.className = `badge status-${a.status}`;
  el.status.setAttribute('data-status', a.status);
  el.status.textContent = a.status;
  const redraw = () => renderAuction(v);
  el.details.replaceChildren(...detailRows(a, redraw));
  renderResult(el.result, a, redraw);
  // Once it is over, the notices it owed (made once: it reloads itself on demand).
  if (a.result || a.status === 'cancelled') {
    v.noticesEl ??= noticesPanel(a.id, v.signal);
    el.result.append(v.noticesEl);
  }
  renderActions(v, a);
}

// Redrawn only when cancellability changes: redrawing on every bid would close an open
// "Really cancel?" and steal its focus.
function renderActions(v, a) {
  const cancellable = a.status === 'scheduled' || a.status === 'open';
  if (v.actionsFor === cancellable) return;
  v.actionsFor = cancellable;
  v.el.actions.replaceChildren(cancellable
    ? cancelControl(a, v.el.cancelError, (updated) => { mergeInto(v, updated); }, { signal: v.signal, ids: true })
    : '');
}

function renderBids(v, fresh = new Set()) {
  const a = v.auction;
  const el = v.el;
  const bids = sortedBids(v.bids);
  el.ladderBody.replaceChildren(...ladderRows(bids, a, fresh, winningBidId(a, bids), () => renderBids(v)));
  el.ladderEmpty.hidden = bids.length > 0;
  el.ladderMore.hidden = bids.length <= LADDER_MAX_ROWS;
  el.ladderMore.textContent = `Showing the newest ${LADDER_MAX_ROWS} of ${bids.length} bids.`;
  el.chartBox.replaceChildren(priceChart(bids, a?.currency));
}

// Bursts of bid events are drawn at most every 50 ms: one redraw per bid would fall
// behind a fast auction.
function scheduleRender(v, fresh, auctionToo) {
  for (const f of fresh) v.pendingFresh.add(f);
  v.pendingAuction ||= auctionToo;
  v.renderTimer ??= setTimeout(() => {
    v.renderTimer = null;
    if (v.pendingAuction) renderAuction(v);
    renderBids(v, v.pendingFresh);
    v.pendingFresh = new Set();
    v.pendingAuction = false;
  }, RENDER_BATCH_MS);
}

function showExtended(note, endsAt, count) {
  note.replaceChildren(h('strong', {}, 'Extended'), ': a late bid moved the end to ',
    timeEl(endsAt), count > 1 ? ` (${count} extensions)` : '', '.');
  note.hidden = false;
  note.classList.remove('flash');
  void note.offsetWidth; // restart the highlight
  note.classList.add('flash');
}

// ---------------------------------------------------------------------------
// Reads

function mergeInto(v, next) {
  const merged = mergeAuction(v.auction, next);
  if (!merged) return;
  v.auction = merged;
  if (FINAL.has(merged.status) && !v.finished) finish(v);
  renderAuction(v);
  renderBids(v);
}

// Resolves to the API answer (null when aborted); problems go to the live-error area.
async function loadAuction(v) {
  let r;
  try { r = await api('GET', `/api/auctions/${v.id}`, undefined, { signal: v.signal }); } catch { return null; }
  if (!r.ok) { showProblem(v.el.liveError, r.problem); return r; }
  mergeInto(v, r.data);
  return r;
}

// Known bids are updated in place (a read may carry more than the event did); new ones
// after the first read are highlighted as fresh.
async function loadBids(v) {
  let r;
  try { r = await api('GET', `/api/auctions/${v.id}/bids?limit=${LADDER_LIMIT}`, undefined, { signal: v.signal }); } catch { return; }
  if (!r.ok) { showProblem(v.el.liveError, r.problem, 'Could not load bids'); return; }
  const fresh = new Set();
  for (const b of r.data?.items ?? []) {
    if (v.bids.has(b.id)) v.bids.set(b.id, { ...v.bids.get(b.id), ...b });
    else if (addBid(v.bids, b) && v.loadedOnce) fresh.add(b.id);
  }
  v.loadedOnce = true;
  renderBids(v, fresh);
}

// Debounced: a burst of sealed bids costs one read.
function scheduleBids(v) {
  clearTimeout(v.bidsTimer);
  v.bidsTimer = setTimeout(() => loadBids(v), SEALED_REREAD_MS);
}

// ---------------------------------------------------------------------------
// Stream events

function onEvent(v, ev) {
  let data;
  try { data = JSON.parse(ev.data); } catch { return; }
  switch (ev.type) {
    case 'bid':
      onBid(v, data);
      break;
    case 'extended':
      onExtended(v, data);
      break;
    case 'closed':
    case 'cancelled':
      v.finished = true;
      mergeInto(v, data);
      finish(v);
      break;
    default:
      break;
  }
}

// An english bid event carries the bid; a sealed one only the new count, so the bids are
// re-read (the admin may see every sealed bid).
function onBid(v, data) {
  const a = v.auction;
  if (data && data.id != null && data.amount != null) {
    if (!addBid(v.bids, data)) return;
    if (a) v.auction = withBid(a, data);
    scheduleRender(v, [data.id], !!a);
  } else if (data && data.bid_count != null) {
    if (a && data.bid_count > a.bid_count) {
      v.auction = { ...a, bid_count: data.bid_count };
      renderAuction(v);
    }
    scheduleBids(v);
  }
}

function onExtended(v, data) {
  const a = v.auction;
  if (!a || !data?.ends_at) return;
  v.extensions += 1;
  v.auction = { ...a, ends_at: data.ends_at };
  renderAuction(v);
  showExtended(v.el.extendedNote, data.ends_at, v.extensions);
}

// ---------------------------------------------------------------------------
// Lifecycle

async function begin(v) {
  const r = await loadAuction(v);
  if (!r || v.signal.aborted) return;
  if (!r.ok) { setStream(v, 'error', problemMessage(r.problem)); return; }
  loadBids(v);
  if (FINAL.has(v.auction.status)) { setStream(v, 'ended'); return; }
  startStream(v);
}

function startStream(v) {
  if (v.finished) { setStream(v, 'ended'); return; }
  v.stream = openEventStream(`/api/auctions/${v.id}/events`, {
    signal: v.signal,
    onEvent: (ev) => onEvent(v, ev),
    onState: (state, detail) => setStream(v, state, detail),
    // catch up on anything the stream does not replay (first load, or a gap)
    onOpen: () => { loadAuction(v).then(() => loadBids(v)); },
    onDropped: () => loadAuction(v),
    onRefused: (problem) => showProblem(v.el.liveError, problem, 'Live updates unavailable'),
  });
}

// Called once the auction is known to be closed or cancelled.
function finish(v) {
  v.finished = true;
  v.stream?.stop();
  setStream(v, 'ended');
  if (v.auction?.status === 'closed' && !v.noticePolling) {
    v.noticePolling = true;
    pollNotice(v);
  }
}

// The close event comes before settlement finishes: read the admin's full view of the
// result, then follow the win notice until it is delivered or failed (for a while).
async function pollNotice(v) {
  await loadAuction(v);
  await loadBids(v);
  for (let i = 0; i < NOTICE_POLLS && v.auction?.result?.notice === 'pending' && !v.signal.aborted; i++) {
    await sleep(2000, v.signal);
    if (!v.signal.aborted) await loadAuction(v);
  }
}

// Status moves by the clock (scheduled -> open -> closing) with no event: re-read once
// just after each edge (700 ms leaves the server time to get there too).
function tick(v) {
  const a = v.auction;
  if (!a || v.signal.aborted) return;
  const edge = a.status === 'scheduled' ? a.starts_at : a.status === 'open' ? a.ends_at : null;
  if (edge && now() >= Date.parse(edge) + 700 && v.refreshedAt !== `${a.status}@${edge}`) {
    v.refreshedAt = `${a.status}@${edge}`;
    loadAuction(v);
  }
}

function cleanup(v) {
  v.ac.abort();
  clearTimeout(v.bidsTimer);
  clearTimeout(v.renderTimer);
}
