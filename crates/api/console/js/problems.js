// Showing API problems (RFC 9457 documents) in the page's error areas.

import { append, h } from './dom.js';

export function problemMessage(p) {
  if (!p) return 'Request failed.';
  return p.detail || p.title || `Request failed (HTTP ${p.status ?? '?'})`;
}

// Fills an error area with a problem's detail (or title) and its code; the code is what
// an operator searches the docs and logs for.
export function showProblem(el, p, prefix) {
  el.replaceChildren();
  if (!p) { el.hidden = true; return; }
  append(el, [
    prefix ? `${prefix}: ` : null,
    h('span', { class: 'problem-detail' }, problemMessage(p)),
    p.code ? [' ', h('code', { class: 'problem-code' }, p.code)] : null,
  ]);
  const extra = [];
  if (p.min_amount !== undefined) extra.push(`minimum amount: ${p.min_amount ?? 'none'}`);
  if (p.auction_status) extra.push(`auction status: ${p.auction_status}`);
  if (extra.length) append(el, [' — ', extra.join(', ')]);
  el.hidden = false;
}

export function showMessage(el, text) {
  el.replaceChildren(text);
  el.hidden = !text;
}
