// Bidders (#/bidders?cursor=…): create one and list them. A new bidder's API key and
// webhook secret are shown once only: the server keeps just a hash of the key.

import { api } from './api.js';
import { PAGE_SIZE } from './constants.js';
import { h } from './dom.js';
import { clearErrors, field, showFieldErrors, textInput } from './forms.js';
import { hashWith } from './hash.js';
import { showMessage, showProblem } from './problems.js';
import { pager, tableWrap, timeEl } from './widgets.js';

/**
 * The bidders view's state.
 * @typedef {object} BiddersView
 * @property {AbortController} ac  aborted when the view is left
 * @property {string} cursor  the listed page ('' = first); reset after a create without re-routing
 * @property {HTMLFormElement} form
 * @property {Object<string, Element>} el  error areas, table body, pager and the created-panel slot
 */

export function biddersView(root, params) {
  document.title = 'Bidders · gavel admin';
  /** @type {BiddersView} */
  const v = { ac: new AbortController(), cursor: params.get('cursor') || '', form: null, el: {} };
  root.append(...buildPage(v));
  load(v);
  return { cleanup: () => v.ac.abort() };
}

function buildForm(v) {
  const el = v.el;
  el.general = h('div', { id: 'bidder-error', 'data-test': 'bidder-error', class: 'error form-error', role: 'alert', hidden: true });
  el.submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'bidder-submit', 'data-test': 'bidder-submit' }, 'Create bidder');
  v.form = h('form', { id: 'bidder-form', 'data-test': 'bidder-form', novalidate: true, class: 'form-grid', onsubmit: (e) => onSubmit(v, e) },
    field('name', 'Name', textInput({ id: 'bidder-name', spellcheck: 'true', 'aria-required': 'true' }), 'An exchange or seat.'),
    field('webhook_url', 'Webhook URL (optional)', textInput({ id: 'bidder-webhook_url', type: 'url', inputmode: 'url', placeholder: 'https://…' }),
      'Win notices are POSTed here. Public http(s) addresses only.'),
    h('div', { class: 'form-actions' }, el.general, el.submit));
  return v.form;
}

function buildPage(v) {
  const el = v.el;
  const form = buildForm(v);
  el.created = h('div', { id: 'created-slot' });
  el.listError = h('div', { id: 'bidders-error', 'data-test': 'list-error', class: 'error', role: 'alert', hidden: true });
  el.tbody = h('tbody', { id: 'bidders-body' });
  el.empty = h('p', { class: 'muted', hidden: true, 'data-test': 'bidders-empty' }, 'No bidders.');
  el.pagerSlot = h('div');
  return [
    h('div', { class: 'view-head' }, h('h1', { tabindex: '-1' }, 'Bidders')),
    h('section', { class: 'panel', 'aria-labelledby': 'new-bidder-title' },
      h('h2', { id: 'new-bidder-title' }, 'New bidder'), form),
    el.created,
    el.listError,
    tableWrap('Bidders', h('table', { class: 'data', id: 'bidders-table', 'data-test': 'bidders-table' },
      h('thead', {}, h('tr', {}, ['ID', 'Name', 'Status', 'Webhook URL', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
      el.tbody)),
    el.empty, el.pagerSlot,
  ];
}

function bidderRow(b) {
  return h('tr', { 'data-test': 'bidder-row', 'data-id': b.id },
    h('td', { class: 'num' }, String(b.id)),
    h('td', {}, h('a', { href: `#/bidders/${b.id}`, 'data-test': 'bidder-link' }, b.name)),
    h('td', {}, h('span', { class: `badge status-${b.status}` }, b.status)),
    h('td', { class: 'url' }, b.webhook_url ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, timeEl(b.created_at)));
}

async function load(v) {
  const el = v.el;
  showMessage(el.listError, '');
  const qs = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (v.cursor) qs.set('cursor', v.cursor);
  let r;
  try { r = await api('GET', `/api/bidders?${qs}`, undefined, { signal: v.ac.signal }); } catch { return; }
  if (!r.ok) { showProblem(el.listError, r.problem); return; }
  const items = r.data?.items ?? [];
  el.tbody.replaceChildren(...items.map(bidderRow));
  el.empty.hidden = items.length > 0;
  el.pagerSlot.replaceChildren(pager('bidders', {
    hasCursor: !!v.cursor,
    nextCursor: r.data?.next_cursor,
    onFirst: () => { location.hash = '#/bidders'; },
    onNext: () => { location.hash = hashWith('/bidders', { cursor: r.data.next_cursor }); },
  }));
}

async function onSubmit(v, e) {
  e.preventDefault();
  const { form, el } = v;
  clearErrors(form);
  const body = { name: form.elements.name.value };
  const url = form.elements.webhook_url.value.trim();
  if (url) body.webhook_url = url;
  el.submit.disabled = true;
  let r;
  try { r = await api('POST', '/api/bidders', body, { signal: v.ac.signal }); } catch { return; } finally { el.submit.disabled = false; }
  if (!r.ok) {
    if (r.problem?.code === 'validation_failed') showFieldErrors(form, el.general, r.problem);
    else showProblem(el.general, r.problem);
    return;
  }
  form.reset();
  const panel = createdPanel(v, r.data);
  el.created.replaceChildren(panel);
  panel.focus();
  // show the new bidder on the first page, without re-routing (which would drop the panel)
  if (v.cursor) {
    v.cursor = '';
    history.replaceState(null, '', '#/bidders');
  }
  load(v);
}

function createdPanel(v, b) {
  return h('section', {
    class: 'panel created', id: 'created-bidder', 'data-test': 'created-bidder', 'data-id': b.id,
    'aria-labelledby': 'created-title', tabindex: '-1',
  },
  h('h2', { id: 'created-title' }, `Bidder #${b.id} “${b.name}” created`),
  h('p', { class: 'warn' }, h('strong', {}, 'Copy these now: they will not be shown again.'),
    ' The server keeps only a hash of the API key.'),
  secretRow('api_key', 'API key (bearer token for bidding)', b.api_key),
  secretRow('webhook_secret', 'Webhook secret (verifies Gavel-Signature)', b.webhook_secret),
  h('button', {
    type: 'button', class: 'btn', 'data-test': 'created-dismiss', id: 'created-dismiss',
    onclick: () => { v.el.created.replaceChildren(); v.form.elements.name.focus(); },
  }, 'Done: hide them'));
}

// A read-only input (not text) so the secret can be selected whole and copied by hand too.
export function secretRow(name, label, value) {
  const test = name.replace('_', '-');
  const input = h('input', {
    type: 'text', readonly: true, id: `created-${name}`, 'data-test': `created-${test}`,
    class: 'secret', value, autocomplete: 'off', spellcheck: 'false',
  });
  const status = h('span', { class: 'copy-status', 'aria-live': 'polite', 'data-test': `copy-status-${test}` });
  return h('div', { class: 'secret-row' },
    h('label', { for: input.id }, label),
    h('div', { class: 'secret-line' }, input,
      h('button', {
        type: 'button', class: 'btn', id: `copy-${name}`, 'data-test': `copy-${test}`,
        onclick: () => copyText(input, status),
      }, 'Copy')),
    status);
}

// The Clipboard API exists only in secure contexts (an admin console on plain http over a
// LAN is not one): fall back to selecting the text and execCommand, then to asking.
async function copyText(input, statusEl) {
  const text = input.value;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      statusEl.textContent = 'Copied.';
      return;
    }
  } catch { /* fall back to selecting */ }
  input.focus();
  input.select();
  input.setSelectionRange(0, text.length);
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  statusEl.textContent = ok ? 'Copied.' : 'Selected: press Ctrl+C (⌘C) to copy.';
}
