// Small pieces several views share: times, countdowns, badges, tables, pagers.

import { FINAL } from './constants.js';
import { money } from './decimal.js';
import { $$, h } from './dom.js';
import { fmtTime, formatLeft, now } from './time.js';

// The title keeps the exact API value at hand; the text is local time.
export function timeEl(iso, attrs = {}, text) {
  if (!iso) return h('span', { class: 'muted', ...attrs }, '—');
  return h('time', { datetime: iso, title: `${iso} (UTC)`, ...attrs }, text ?? fmtTime(iso));
}

// A countdown carries its deadline in `data-ends-at`, so one page-wide timer
// (tickCountdowns) updates every countdown without views keeping timers of their own.
export function countdown(auction, attrs = {}) {
  const final = FINAL.has(auction.status);
  return h('span', {
    class: 'countdown',
    'data-test': 'time-left',
    'data-ends-at': final ? null : auction.ends_at,
    ...attrs,
  }, final ? 'ended' : formatLeft(Date.parse(auction.ends_at) - now()));
}

export function tickCountdowns() {
  for (const el of $$('[data-ends-at]')) {
    const left = formatLeft(Date.parse(el.getAttribute('data-ends-at')) - now());
    if (el.textContent !== left) el.textContent = left;
    el.classList.toggle('soon', left !== 'ended' && Date.parse(el.getAttribute('data-ends-at')) - now() < 60000);
  }
}

export function statusBadge(status, attrs = {}) {
  return h('span', { class: `badge status-${status}`, 'data-status': status, ...attrs }, status);
}

// Focusable and labelled so keyboard users can scroll a table that is wider than a phone.
export function tableWrap(label, table) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

// Sealed auctions hide their amounts until closed: show how many bids there are instead.
export function highestText(a) {
  if (a.highest_bid) return money(a.highest_bid.amount, a.currency);
  if (a.kind !== 'english') return `${a.bid_count} bid${a.bid_count === 1 ? '' : 's'}`;
  return 'no bids';
}

// Cursor paging goes forward only, so "First page" is the way back.
export function pager(prefix, { hasCursor, nextCursor, onFirst, onNext }) {
  return h('div', { class: 'pager' },
    h('button', {
      type: 'button', class: 'btn', id: `${prefix}-first-page`, 'data-test': 'first-page',
      disabled: !hasCursor, onclick: onFirst,
    }, 'First page'),
    h('button', {
      type: 'button', class: 'btn', id: `${prefix}-next-page`, 'data-test': 'next-page',
      disabled: !nextCursor, onclick: onNext,
    }, 'Next page'));
}
