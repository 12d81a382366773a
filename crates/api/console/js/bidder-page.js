// One bidder (#/bidders/{id}): its status, rate limit and keys (prefix, created, expires),
// with disable/enable, key rotation (the new key shown once, with copy) and revocation,
// each confirmed in the page.

import { api } from './api.js';
import { rememberBidder } from './bidder-names.js';
import { secretRow } from './bidders.js';
import { confirmControl } from './confirm.js';
import { h } from './dom.js';
import { showMessage, showProblem } from './problems.js';
import { tableWrap, timeEl } from './widgets.js';

export function bidderPage(root, id) {
  document.title = `Bidder #${id} · gavel admin`;
  const ac = new AbortController();
  const v = {
    id, signal: ac.signal,
    heading: h('h1', { tabindex: '-1', 'data-test': 'bidder-heading' }, `Bidder #${id}`),
    error: h('div', { class: 'error', role: 'alert', hidden: true, 'data-test': 'bidder-page-error' }),
    details: h('dl', { class: 'details', 'data-test': 'bidder-details' }),
    actions: h('div', { class: 'actions' }),
    created: h('div', { id: 'created-key-slot' }),
    keys: h('tbody', { 'data-test': 'keys-body' }),
  };
  root.append(
    h('div', { class: 'view-head' }, v.heading),
    v.error,
    h('section', { class: 'panel' }, v.details, v.actions),
    v.created,
    h('section', { class: 'panel', 'aria-labelledby': 'keys-title' },
      h('h2', { id: 'keys-title' }, 'API keys'),
      tableWrap('API keys', h('table', { class: 'data', 'data-test': 'keys-table' },
        h('thead', {}, h('tr', {}, ['Key', 'Created', 'Expires', ''].map((t) => h('th', { scope: 'col' }, t)))),
        v.keys))));
  load(v);
  return { cleanup: () => ac.abort() };
}

async function load(v) {
  let r;
  try { r = await api('GET', `/api/bidders/${v.id}`, undefined, { signal: v.signal }); } catch { return; }
  if (!r.ok) { showProblem(v.error, r.problem); return; }
  render(v, r.data);
}

function render(v, b) {
  rememberBidder(b);
  showMessage(v.error, '');
  v.heading.textContent = `Bidder #${b.id}: ${b.name}`;
  const row = (label, value, test) => [h('dt', {}, label), h('dd', { 'data-test': test }, value)];
  v.details.replaceChildren(...[
    row('Status', h('span', { class: `badge status-${b.status}`, 'data-test': 'bidder-status' }, b.status), 'detail-status'),
    row('Rate limit', b.rate_limit == null ? 'server default' : `${b.rate_limit} a second per instance`, 'bidder-rate-limit'),
    row('Webhook URL', b.webhook_url ?? '—', 'bidder-webhook'),
    row('Created at', timeEl(b.created_at), 'bidder-created'),
  ].flat());
  const disabled = b.status === 'disabled';
  v.actions.replaceChildren(
    confirmControl({
      test: disabled ? 'enable' : 'disable',
      label: disabled ? 'Enable' : 'Disable',
      question: disabled ? 'Honour its keys again?' : 'Refuse all its keys?',
      yes: disabled ? 'Yes, enable' : 'Yes, disable',
      danger: !disabled,
      onYes: () => change(v, 'PATCH', `/api/bidders/${v.id}`, { status: disabled ? 'active' : 'disabled' }),
    }),
    ' ',
    confirmControl({
      test: 'rotate', label: 'New key', question: 'Make a new key (the others keep working)?', yes: 'Yes, make it',
      onYes: () => rotate(v),
    }));
  v.keys.replaceChildren(...b.keys.map((k) => keyRow(v, k)));
}

function keyRow(v, k) {
  return h('tr', { 'data-test': 'key-row', 'data-id': k.key_id },
    h('td', { class: 'mono', 'data-test': 'key-prefix' }, `${k.prefix}…`),
    h('td', {}, timeEl(k.created_at)),
    h('td', {}, k.expires_at ? timeEl(k.expires_at) : h('span', { class: 'muted' }, 'never')),
    h('td', {}, confirmControl({
      test: 'revoke', label: 'Revoke', question: `Revoke ${k.prefix}…?`, yes: 'Yes, revoke', danger: true,
      onYes: () => change(v, 'DELETE', `/api/bidders/${v.id}/keys/${k.key_id}`),
    })));
}

async function change(v, method, path, body) {
  let r;
  try { r = await api(method, path, body, { signal: v.signal }); } catch { return; }
  if (!r.ok) { showProblem(v.error, r.problem); return; }
  await load(v);
}

async function rotate(v) {
  let r;
  try { r = await api('POST', `/api/bidders/${v.id}/keys`, {}, { signal: v.signal }); } catch { return; }
  if (!r.ok) { showProblem(v.error, r.problem); return; }
  const panel = h('section', { class: 'panel created', 'data-test': 'created-key', tabindex: '-1' },
    h('h2', {}, 'New key'),
    h('p', { class: 'warn' }, h('strong', {}, 'Copy it now: it will not be shown again.')),
    secretRow('api_key', 'API key', r.data.api_key),
    h('button', { type: 'button', class: 'btn', 'data-test': 'created-key-dismiss', onclick: () => v.created.replaceChildren() }, 'Done: hide it'));
  v.created.replaceChildren(panel);
  panel.focus();
  await load(v);
}
