// The auction list (#/auctions?status=…&cursor=…). Filter and page live in the hash, so
// Back and reload keep them.

import { api } from './api.js';
import { cancelControl } from './cancel.js';
import { PAGE_SIZE, STATUSES } from './constants.js';
import { h } from './dom.js';
import { hashWith } from './hash.js';
import { showMessage, showProblem } from './problems.js';
import { countdown, highestText, pager, statusBadge, tableWrap } from './widgets.js';

/**
 * The list view's state.
 * @typedef {object} ListView
 * @property {AbortController} ac  aborted when the view is left: drops late answers
 * @property {string} status       the status filter ('' = all)
 * @property {string} cursor       this page's cursor ('' = first page)
 * @property {Object<string, Element>} el  the parts load() fills in
 */

export function auctionsView(root, params) {
  /** @type {ListView} */
  const v = {
    ac: new AbortController(),
    status: STATUSES.includes(params.get('status')) ? params.get('status') : '',
    cursor: params.get('cursor') || '',
    el: {},
  };
  document.title = 'Auctions · gavel admin';
  root.append(...buildPage(v));
  load(v);
  return { cleanup: () => v.ac.abort() };
}

function buildPage(v) {
  const el = v.el;
  const filter = h('select', {
    id: 'status-filter', 'data-test': 'status-filter', name: 'status',
    onchange: () => { location.hash = hashWith('/auctions', { status: filter.value }); },
  }, h('option', { value: '' }, 'All'), STATUSES.map((st) => h('option', { value: st }, st)));
  filter.value = v.status;

  el.listError = h('div', { id: 'list-error', 'data-test': 'list-error', class: 'error', role: 'alert', hidden: true });
  el.cancelError = h('div', { id: 'cancel-error', 'data-test': 'cancel-error', class: 'error', role: 'alert', hidden: true });
  el.tbody = h('tbody', { id: 'auctions-body' });
  const table = h('table', { id: 'auctions-table', 'data-test': 'auctions-table', class: 'data' },
    h('caption', { class: 'visually-hidden' }, 'Auctions, newest first'),
    h('thead', {}, h('tr', {},
      ['ID', 'Title', 'Kind', 'Status', 'Highest bid', 'Time left', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    el.tbody);
  el.empty = h('p', { class: 'muted', 'data-test': 'auctions-empty', hidden: true }, 'No auctions.');
  el.pagerSlot = h('div');
  el.loading = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');

  return [
    h('div', { class: 'view-head' },
      h('h1', { tabindex: '-1' }, 'Auctions'),
      h('div', { class: 'head-actions' },
        h('a', { class: 'btn btn-primary', href: '#/auctions/new', 'data-test': 'new-auction-link' }, 'New auction'),
        h('button', { type: 'button', class: 'btn', 'data-test': 'refresh', id: 'refresh', onclick: () => load(v) }, 'Refresh'))),
    h('div', { class: 'toolbar' }, h('label', { for: 'status-filter' }, 'Status'), filter),
    el.listError, el.cancelError, el.loading, tableWrap('Auctions', table), el.empty, el.pagerSlot,
  ];
}

function row(v, a) {
  const tr = h('tr', { 'data-test': 'auction-row', 'data-id': a.id, 'data-status': a.status },
    h('td', { class: 'num' }, h('a', { href: `#/auctions/${a.id}` }, String(a.id))),
    h('td', { class: 'title-cell' }, h('a', { href: `#/auctions/${a.id}`, 'data-test': 'auction-link' }, a.title)),
    h('td', {}, a.kind),
    h('td', {}, statusBadge(a.status, { 'data-test': 'row-status' })),
    h('td', { class: 'num', 'data-test': 'row-highest' }, highestText(a)),
    h('td', { class: 'num' }, countdown(a)),
    h('td', {}, (a.status === 'scheduled' || a.status === 'open')
      // the row redraws itself from the answer: no reload, so the page keeps its place
      ? cancelControl(a, v.el.cancelError, (updated) => tr.replaceWith(row(v, updated)), { signal: v.ac.signal })
      : null));
  return tr;
}

async function load(v) {
  const { el, status, cursor } = v;
  showMessage(el.listError, '');
  el.loading.hidden = false;
  const qs = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (status) qs.set('status', status);
  if (cursor) qs.set('cursor', cursor);
  let r;
  try { r = await api('GET', `/api/auctions?${qs}`, undefined, { signal: v.ac.signal }); } catch { return; }
  el.loading.hidden = true;
  if (!r.ok) { showProblem(el.listError, r.problem); return; }
  const items = r.data?.items ?? [];
  el.tbody.replaceChildren(...items.map((a) => row(v, a)));
  el.empty.hidden = items.length > 0;
  el.pagerSlot.replaceChildren(pager('auctions', {
    hasCursor: !!cursor,
    nextCursor: r.data?.next_cursor,
    onFirst: () => { location.hash = hashWith('/auctions', { status }); },
    onNext: () => { location.hash = hashWith('/auctions', { status, cursor: r.data.next_cursor }); },
  }));
}
