// gavel admin console: one dependency-free ES module.
//
// Auth: the admin token lives only in this tab's sessionStorage and is sent only in the
// `Authorization: Bearer` header (never in a URL). The event stream is read with fetch()
// and a streamed body (EventSource cannot send headers), parsed here as Server-Sent Events.
// Amounts are shown exactly as the API's decimal strings; floats are used only to place
// chart points.

const TOKEN_KEY = 'gavel.adminToken';
const STATUSES = ['scheduled', 'open', 'closing', 'closed', 'cancelled'];
const KINDS = ['english', 'first_price', 'second_price'];
const FINAL = new Set(['closed', 'cancelled']);
const PAGE_SIZE = 20;
const LADDER_LIMIT = 50;
const LADDER_MAX_ROWS = 200;
const MAX_BIDS_KEPT = 2000; // bids held for the ladder and chart
const DEFAULT_RETRY_MS = 2000;
const MAX_RETRY_MS = 30000;
const STREAM_IDLE_MS = 45000; // the server sends a comment at least every 15 s
const NOTICE_POLLS = 10;

// ---------------------------------------------------------------------------
// Small DOM helpers (text only: API data never goes through innerHTML)

function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------------------
// Decimal strings: compared exactly, never through floats

function cmpDec(a, b) {
  const [ai, af = ''] = String(a).replace(/^\+/, '').split('.');
  const [bi, bf = ''] = String(b).replace(/^\+/, '').split('.');
  const ia = ai.replace(/^0+(?=\d)/, '');
  const ib = bi.replace(/^0+(?=\d)/, '');
  if (ia.length !== ib.length) return ia.length < ib.length ? -1 : 1;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const fa = af.padEnd(n, '0');
  const fb = bf.padEnd(n, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

const money = (amount, currency) => (currency ? `${amount} ${currency}` : String(amount));

// ---------------------------------------------------------------------------
// Time

let clockOffset = 0; // server clock minus ours, from the Date header (1 s resolution)
function noteServerClock(res) {
  const t = Date.parse(res.headers.get('Date') || '');
  if (Number.isNaN(t)) return;
  const off = t + 500 - Date.now();
  clockOffset = Math.abs(off) > 2000 ? off : 0;
}
const now = () => Date.now() + clockOffset;

const pad = (n, w = 2) => String(n).padStart(w, '0');

function fmtTime(iso, withMs = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

function fmtClock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function timeEl(iso, attrs = {}, text) {
  if (!iso) return h('span', { class: 'muted', ...attrs }, '—');
  return h('time', { datetime: iso, title: `${iso} (UTC)`, ...attrs }, text ?? fmtTime(iso));
}

function formatLeft(ms) {
  if (!(ms > 0)) return 'ended';
  let sec = Math.ceil(ms / 1000);
  const d = Math.floor(sec / 86400); sec %= 86400;
  const hr = Math.floor(sec / 3600); sec %= 3600;
  const m = Math.floor(sec / 60); sec %= 60;
  if (d) return `${d}d ${hr}h ${pad(m)}m`;
  if (hr) return `${hr}h ${pad(m)}m ${pad(sec)}s`;
  if (m) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

function countdown(auction, attrs = {}) {
  const final = FINAL.has(auction.status);
  return h('span', {
    class: 'countdown',
    'data-test': 'time-left',
    'data-ends-at': final ? null : auction.ends_at,
    ...attrs,
  }, final ? 'ended' : formatLeft(Date.parse(auction.ends_at) - now()));
}

function tickCountdowns() {
  for (const el of $$('[data-ends-at]')) {
    const left = formatLeft(Date.parse(el.getAttribute('data-ends-at')) - now());
    if (el.textContent !== left) el.textContent = left;
    el.classList.toggle('soon', left !== 'ended' && Date.parse(el.getAttribute('data-ends-at')) - now() < 60000);
  }
}

// localDateTime("2026-11-22T10:00") -> "2026-11-22T09:00:00.000Z" (in UTC+1)
function localToUtc(value) {
  if (!value) return null;
  const d = new Date(value); // a date-time without offset is local time
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function toLocalInput(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// ---------------------------------------------------------------------------
// Token and API

let memoryToken = null; // used only when sessionStorage is unavailable
const auth = {
  get() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch { return memoryToken; }
  },
  set(t) {
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch { memoryToken = t; }
  },
  clear() {
    memoryToken = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing stored */ }
  },
};

function authHeaders(token = auth.get()) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// Resolves to {ok, status, data, problem, headers}; rejects only when aborted.
async function api(method, path, body, { signal, token, on401 = true } = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(token) };
  const init = { method, headers, signal, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (signal?.aborted) throw e;
    return {
      ok: false, status: 0, data: null, headers: new Headers(),
      problem: { title: 'Network error', detail: 'Could not reach the server.', code: 'network_error' },
    };
  }
  noteServerClock(res);
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return { ok: true, status: res.status, data, problem: null, headers: res.headers };
  const problem = data && typeof data === 'object' && !Array.isArray(data)
    ? data
    : { title: `HTTP ${res.status}`, status: res.status, detail: `The server answered ${res.status} ${res.statusText}`.trim() };
  if (res.status === 401 && on401) sessionEnded(problem);
  return { ok: false, status: res.status, data, problem, headers: res.headers };
}

function problemMessage(p) {
  if (!p) return 'Request failed.';
  return p.detail || p.title || `Request failed (HTTP ${p.status ?? '?'})`;
}

// Fills an error area with a problem's detail (or title) and its code.
function showProblem(el, p, prefix) {
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

function showMessage(el, text) {
  el.replaceChildren(text);
  el.hidden = !text;
}

function clearErrors(form) {
  for (const el of $$('.field-error, .form-error', form)) { el.replaceChildren(); el.hidden = true; }
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
}

// Puts each `errors[]` entry beside its field (`#err-<field>`); the rest in `general`.
function showFieldErrors(form, general, problem) {
  const rest = [];
  let first = null;
  for (const e of Array.isArray(problem.errors) ? problem.errors : []) {
    const box = form.querySelector(`#err-${CSS.escape(String(e.field))}`);
    if (box) {
      box.append(box.childNodes.length ? `; ${e.message}` : e.message);
      box.hidden = false;
      const input = form.querySelector(`[name="${CSS.escape(String(e.field))}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        first ??= input;
      }
    } else {
      rest.push(`${e.field}: ${e.message}`);
    }
  }
  if (rest.length || !Array.isArray(problem.errors) || !problem.errors.length) {
    showProblem(general, problem);
    if (rest.length) general.append(h('ul', {}, rest.map((r) => h('li', {}, r))));
  }
  first?.focus();
}

// ---------------------------------------------------------------------------
// Shell: sign-in, sign-out, routing

let current = null; // the mounted view: {cleanup(), tick()}

function parseHash() {
  let raw = location.hash.replace(/^#/, '');
  try { raw = decodeURI(raw); } catch { /* keep it as it is */ }
  raw ||= '/auctions';
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/';
  return { path, params: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

function hashWith(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) qs.set(k, v);
  const str = qs.toString();
  return `#${path}${str ? `?${str}` : ''}`;
}

function unmount() {
  if (current) {
    try { current.cleanup?.(); } catch (e) { console.error(e); }
    current = null;
  }
  $('#view').replaceChildren();
}

function showSignin(message) {
  unmount();
  $('#view').hidden = true;
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#signin').hidden = false;
  document.title = 'Sign in · gavel admin';
  showMessage($('#signin-error'), '');
  if (message) showProblem($('#signin-error'), message);
  $('#token').focus();
}

function sessionEnded(problem) {
  if (!auth.get()) return;
  auth.clear();
  showSignin({ ...problem, detail: `Signed out: ${problemMessage(problem)}` });
}

async function signIn(event) {
  event.preventDefault();
  const input = $('#token');
  const button = $('#signin-submit');
  const err = $('#signin-error');
  const token = input.value.trim();
  showMessage(err, '');
  if (!token) {
    showMessage(err, 'Enter the admin token.');
    input.focus();
    return;
  }
  button.disabled = true;
  try {
    const r = await api('GET', '/api/bidders?limit=1', undefined, { token, on401: false });
    if (r.ok) {
      auth.set(token);
      input.value = '';
      route(true);
    } else {
      showProblem(err, r.problem);
      input.focus();
      input.select();
    }
  } finally {
    button.disabled = false;
  }
}

function signOut() {
  auth.clear();
  showSignin();
}

const ROUTES = [
  [/^\/$|^\/auctions$/, (root, m, params) => auctionsView(root, params), 'nav-auctions'],
  [/^\/auctions\/new$/, (root) => newAuctionView(root), 'nav-new-auction'],
  [/^\/auctions\/([1-9][0-9]*)$/, (root, m) => liveView(root, m[1]), 'nav-auctions'],
  [/^\/bidders$/, (root, m, params) => biddersView(root, params), 'nav-bidders'],
];

function route(focus = true) {
  if (!auth.get()) { showSignin(); return; }
  unmount();
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  $('#signout').hidden = false;
  const root = $('#view');
  root.hidden = false;
  const { path, params } = parseHash();
  let navId = null;
  for (const [re, make, nav] of ROUTES) {
    const m = path.match(re);
    if (m) {
      current = make(root, m, params);
      navId = nav;
      break;
    }
  }
  if (!current) {
    root.append(h('h1', { tabindex: '-1' }, 'Not found'),
      h('p', {}, 'No such page. ', h('a', { href: '#/auctions' }, 'Go to auctions')));
    current = {};
  }
  for (const a of $$('#nav a')) {
    if (a.id === navId) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (focus) $('h1', root)?.focus({ preventScroll: false });
}

// ---------------------------------------------------------------------------
// Shared pieces

function statusBadge(status, attrs = {}) {
  return h('span', { class: `badge status-${status}`, 'data-status': status, ...attrs }, status);
}

function tableWrap(label, table) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

function highestText(a) {
  if (a.highest_bid) return money(a.highest_bid.amount, a.currency);
  if (a.kind !== 'english') return `${a.bid_count} bid${a.bid_count === 1 ? '' : 's'}`;
  return 'no bids';
}

// In-page "Really cancel?" confirm inside `slot`; calls done(auction) on success and
// shows problems in `errorEl`.
function cancelControl(auction, errorEl, done, { signal, ids = false } = {}) {
  const slot = h('span', { class: 'cancel-slot' });
  const button = h('button', {
    type: 'button',
    class: 'btn btn-danger btn-small',
    'data-test': 'cancel-button',
    'data-id': auction.id,
    id: ids ? 'cancel-button' : null,
    'aria-label': `Cancel auction ${auction.id}`,
    onclick: openConfirm,
  }, 'Cancel');
  slot.append(button);

  function openConfirm() {
    // one confirm at a time
    for (const no of $$('[data-test="cancel-no"]')) no.click();
    showMessage(errorEl, '');
    const yes = h('button', {
      type: 'button', class: 'btn btn-danger btn-small', 'data-test': 'cancel-yes',
      id: ids ? 'cancel-yes' : null, onclick: confirmYes,
    }, 'Yes, cancel it');
    const no = h('button', {
      type: 'button', class: 'btn btn-small', 'data-test': 'cancel-no',
      id: ids ? 'cancel-no' : null, onclick: closeConfirm,
    }, 'No');
    const box = h('span', {
      class: 'confirm', role: 'group', 'aria-label': `Confirm cancelling auction ${auction.id}`,
      'data-test': 'cancel-confirm', id: ids ? 'cancel-confirm' : null,
      onkeydown: (e) => { if (e.key === 'Escape') closeConfirm(); },
    }, h('span', { class: 'confirm-q' }, 'Really cancel?'), ' ', yes, ' ', no);
    slot.replaceChildren(box);
    no.focus();

    async function confirmYes() {
      yes.disabled = true;
      no.disabled = true;
      let r;
      try {
        r = await api('POST', `/api/auctions/${auction.id}/cancel`, undefined, { signal });
      } catch { return; }
      if (r.ok) {
        done(r.data);
      } else {
        showProblem(errorEl, r.problem, `Could not cancel auction #${auction.id}`);
        closeConfirm();
        if (r.status === 409) {
          const fresh = await api('GET', `/api/auctions/${auction.id}`, undefined, { signal }).catch(() => null);
          if (fresh?.ok) done(fresh.data);
        }
      }
    }
  }

  function closeConfirm() {
    const hadFocus = slot.contains(document.activeElement);
    slot.replaceChildren(button);
    if (hadFocus) button.focus();
  }

  return slot;
}

function pager(prefix, { hasCursor, nextCursor, onFirst, onNext }) {
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

// ---------------------------------------------------------------------------
// Auctions list

function auctionsView(root, params) {
  const ac = new AbortController();
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  const cursor = params.get('cursor') || '';
  document.title = 'Auctions · gavel admin';

  const filter = h('select', {
    id: 'status-filter', 'data-test': 'status-filter', name: 'status',
    onchange: () => { location.hash = hashWith('/auctions', { status: filter.value }); },
  }, h('option', { value: '' }, 'All'), STATUSES.map((st) => h('option', { value: st }, st)));
  filter.value = status;

  const listError = h('div', { id: 'list-error', 'data-test': 'list-error', class: 'error', role: 'alert', hidden: true });
  const cancelError = h('div', { id: 'cancel-error', 'data-test': 'cancel-error', class: 'error', role: 'alert', hidden: true });
  const tbody = h('tbody', { id: 'auctions-body' });
  const table = h('table', { id: 'auctions-table', 'data-test': 'auctions-table', class: 'data' },
    h('caption', { class: 'visually-hidden' }, 'Auctions, newest first'),
    h('thead', {}, h('tr', {},
      ['ID', 'Title', 'Kind', 'Status', 'Highest bid', 'Time left', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const empty = h('p', { class: 'muted', 'data-test': 'auctions-empty', hidden: true }, 'No auctions.');
  const pagerSlot = h('div');
  const loading = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');

  root.append(
    h('div', { class: 'view-head' },
      h('h1', { tabindex: '-1' }, 'Auctions'),
      h('div', { class: 'head-actions' },
        h('a', { class: 'btn btn-primary', href: '#/auctions/new', 'data-test': 'new-auction-link' }, 'New auction'),
        h('button', { type: 'button', class: 'btn', 'data-test': 'refresh', id: 'refresh', onclick: load }, 'Refresh'))),
    h('div', { class: 'toolbar' }, h('label', { for: 'status-filter' }, 'Status'), filter),
    listError, cancelError, loading, tableWrap('Auctions', table), empty, pagerSlot);

  function row(a) {
    const tr = h('tr', { 'data-test': 'auction-row', 'data-id': a.id, 'data-status': a.status },
      h('td', { class: 'num' }, h('a', { href: `#/auctions/${a.id}` }, String(a.id))),
      h('td', { class: 'title-cell' }, h('a', { href: `#/auctions/${a.id}`, 'data-test': 'auction-link' }, a.title)),
      h('td', {}, a.kind),
      h('td', {}, statusBadge(a.status, { 'data-test': 'row-status' })),
      h('td', { class: 'num', 'data-test': 'row-highest' }, highestText(a)),
      h('td', { class: 'num' }, countdown(a)),
      h('td', {}, (a.status === 'scheduled' || a.status === 'open')
        ? cancelControl(a, cancelError, (updated) => tr.replaceWith(row(updated)), { signal: ac.signal })
        : null));
    return tr;
  }

  async function load() {
    showMessage(listError, '');
    loading.hidden = false;
    const qs = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status) qs.set('status', status);
    if (cursor) qs.set('cursor', cursor);
    let r;
    try { r = await api('GET', `/api/auctions?${qs}`, undefined, { signal: ac.signal }); } catch { return; }
    loading.hidden = true;
    if (!r.ok) { showProblem(listError, r.problem); return; }
    const items = r.data?.items ?? [];
    tbody.replaceChildren(...items.map(row));
    empty.hidden = items.length > 0;
    pagerSlot.replaceChildren(pager('auctions', {
      hasCursor: !!cursor,
      nextCursor: r.data?.next_cursor,
      onFirst: () => { location.hash = hashWith('/auctions', { status }); },
      onNext: () => { location.hash = hashWith('/auctions', { status, cursor: r.data.next_cursor }); },
    }));
  }

  load();
  return { cleanup: () => ac.abort() };
}

// ---------------------------------------------------------------------------
// Create auction

function field(name, label, control, hint) {
  control.id ||= `f-${name}`;
  control.setAttribute('name', name);
  control.setAttribute('data-test', `field-${name}`);
  const hintId = hint ? `hint-${name}` : null;
  control.setAttribute('aria-describedby', [`err-${name}`, hintId].filter(Boolean).join(' '));
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: `err-${name}`, 'data-test': `err-${name}`, 'aria-live': 'polite', hidden: true }));
}

const textInput = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

function newAuctionView(root) {
  const ac = new AbortController();
  document.title = 'New auction · gavel admin';
  const tz = (() => {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return ''; }
  })();

  const kind = h('select', {}, KINDS.map((k) => h('option', { value: k }, k)));
  const minInc = textInput({ inputmode: 'decimal', placeholder: '0.01' });
  const extend = textInput({ inputmode: 'numeric', placeholder: '0' });
  const startsAt = h('input', { type: 'datetime-local', step: '1' });
  const endsAt = h('input', { type: 'datetime-local', step: '1' });
  endsAt.value = toLocalInput(new Date(Date.now() + 3600_000));
  const startsUtc = h('output', { class: 'utc', for: 'f-starts_at', 'data-test': 'utc-starts_at' });
  const endsUtc = h('output', { class: 'utc', for: 'f-ends_at', 'data-test': 'utc-ends_at' });
  const general = h('div', { id: 'create-error', 'data-test': 'create-error', class: 'error form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-submit', 'data-test': 'create-submit' }, 'Create auction');

  const form = h('form', { id: 'create-form', 'data-test': 'create-form', novalidate: true, class: 'form-grid', onsubmit },
    field('title', 'Title', textInput({ spellcheck: 'true', 'aria-required': 'true' }), '1 to 200 characters.'),
    field('kind', 'Kind', kind, 'english: open, ascending; first_price / second_price: sealed.'),
    field('currency', 'Currency', textInput({ value: 'USD', autocapitalize: 'characters', size: '4' }), 'Three upper-case letters.'),
    field('reserve_price', 'Reserve price', textInput({ inputmode: 'decimal', placeholder: '0' }), 'Decimal, e.g. 1.00. Empty: 0.'),
    field('min_increment', 'Minimum increment', minInc, 'English only. Empty: 0.01.'),
    field('extend_secs', 'Extend (seconds)', extend, 'English only, 0–3600: a bid this close to the end extends it.'),
    field('starts_at', 'Starts at', startsAt, h('span', {}, `Local time${tz ? ` (${tz})` : ''}; empty: now. `, startsUtc)),
    field('ends_at', 'Ends at', endsAt, h('span', {}, `Local time${tz ? ` (${tz})` : ''}; at most 30 days after the start. `, endsUtc)),
    h('div', { class: 'form-actions' }, general, submit));

  function syncKind() {
    const english = kind.value === 'english';
    for (const el of [minInc, extend]) {
      el.disabled = !english;
      el.closest('.field').classList.toggle('is-disabled', !english);
    }
  }
  function syncUtc() {
    for (const [input, out] of [[startsAt, startsUtc], [endsAt, endsUtc]]) {
      const v = localToUtc(input.value);
      out.textContent = v ? `= ${v.replace('.000Z', 'Z')}` : '';
    }
  }
  kind.addEventListener('change', syncKind);
  startsAt.addEventListener('input', syncUtc);
  endsAt.addEventListener('input', syncUtc);
  syncKind();
  syncUtc();

  root.append(h('div', { class: 'view-head' }, h('h1', { tabindex: '-1' }, 'New auction')),
    h('section', { class: 'panel' }, form));

  async function onsubmit(e) {
    e.preventDefault();
    clearErrors(form);
    const v = (name) => form.elements[name].value.trim();
    const body = { title: form.elements.title.value, kind: kind.value };
    if (v('currency')) body.currency = v('currency');
    if (v('reserve_price')) body.reserve_price = v('reserve_price');
    if (kind.value === 'english') {
      if (v('min_increment')) body.min_increment = v('min_increment');
      if (v('extend_secs')) {
        const raw = v('extend_secs');
        body.extend_secs = /^\d{1,9}$/.test(raw) ? Number(raw) : raw; // the server explains bad input
      }
    }
    const local = [];
    for (const name of ['starts_at', 'ends_at']) {
      const input = form.elements[name];
      if (input.validity?.badInput) { local.push({ field: name, message: 'is not a complete date and time' }); continue; }
      const utc = localToUtc(input.value);
      if (utc === undefined) local.push({ field: name, message: 'is not a valid date and time' });
      else if (utc) body[name] = utc;
    }
    if (local.length) {
      showFieldErrors(form, general, { title: 'Invalid input', errors: local });
      return;
    }
    submit.disabled = true;
    let r;
    try { r = await api('POST', '/api/auctions', body, { signal: ac.signal }); } catch { return; } finally { submit.disabled = false; }
    if (r.ok && r.data?.id != null) {
      location.hash = `#/auctions/${r.data.id}`;
    } else if (r.ok) {
      showMessage(general, 'Created, but the answer named no auction.');
    } else if (r.problem?.code === 'validation_failed') {
      showFieldErrors(form, general, r.problem);
    } else {
      showProblem(general, r.problem);
    }
  }

  return { cleanup: () => ac.abort() };
}

// ---------------------------------------------------------------------------
// Server-Sent Events over fetch()

// Reads an SSE body; calls onEvent({type, data, id}) per event and onRetry(ms).
// Resolves when the body ends; rejects on network errors or abort.
async function readSse(body, { onEvent, onRetry, idleMs }) {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8'); // strips a leading BOM
  let buf = '';
  let type = '';
  let data = [];
  let id = null;
  let idle = null;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => reader.cancel(new Error('stream idle')).catch(() => {}), idleMs);
  };

  function dispatch() {
    if (data.length) onEvent({ type: type || 'message', data: data.join('\n'), id });
    type = '';
    data = [];
    id = null;
  }

  function line(l) {
    if (l === '') { dispatch(); return; }
    if (l[0] === ':') return; // comment / keep-alive
    const i = l.indexOf(':');
    const name = i === -1 ? l : l.slice(0, i);
    let value = i === -1 ? '' : l.slice(i + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'event') type = value;
    else if (name === 'data') data.push(value);
    else if (name === 'id') { if (!value.includes('\0')) id = value; }
    else if (name === 'retry') { if (/^\d+$/.test(value)) onRetry(Number(value)); }
  }

  function feed(text, final) {
    buf += text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 13 && i + 1 === buf.length && !final) break; // "\r" may be half of "\r\n"
      line(buf.slice(start, i));
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    buf = buf.slice(start);
  }

  arm();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) { feed(decoder.decode(), true); break; } // an unterminated last event is dropped
      arm();
      feed(decoder.decode(value, { stream: true }), false);
    }
  } finally {
    clearTimeout(idle);
  }
}

// ---------------------------------------------------------------------------
// One auction, live

function liveView(root, idText) {
  const ac = new AbortController();
  const signal = ac.signal;
  const id = idText;
  const st = {
    auction: null,
    bids: new Map(), // bid id -> Bid
    lastEventId: null, // BigInt of the highest event id seen
    lastEventIdRaw: null,
    retryMs: DEFAULT_RETRY_MS,
    finished: false,
    streamCtrl: null,
    extensions: 0,
    bidsTimer: null,
    actionsFor: null,
    refreshedAt: '',
    noticePolling: false,
    renderTimer: null,
    pendingFresh: new Set(),
    pendingAuction: false,
  };
  document.title = `Auction #${id} · gavel admin`;

  const heading = h('h1', { tabindex: '-1', id: 'auction-title' }, `Auction #${id}`);
  const statusEl = h('span', { class: 'badge', id: 'auction-status', 'data-test': 'auction-status' }, '…');
  const streamEl = h('span', { class: 'stream', id: 'stream-state', 'data-test': 'stream-state', 'data-state': 'connecting', role: 'status' });
  const actions = h('div', { class: 'live-actions' });
  const liveError = h('div', { id: 'live-error', 'data-test': 'live-error', class: 'error', role: 'alert', hidden: true });
  const cancelError = h('div', { id: 'cancel-error', 'data-test': 'cancel-error', class: 'error', role: 'alert', hidden: true });
  const extendedNote = h('p', { id: 'extended-note', 'data-test': 'extended-note', class: 'note', role: 'status', hidden: true });
  const details = h('dl', { class: 'details', id: 'auction-details', 'data-test': 'auction-details' });
  const result = h('section', { class: 'panel result', id: 'result', 'data-test': 'result', 'aria-labelledby': 'result-title', hidden: true });
  const chartBox = h('div', { class: 'chart-box' });
  const ladderBody = h('tbody', { id: 'ladder-body' });
  const ladderEmpty = h('p', { class: 'muted', 'data-test': 'ladder-empty' }, 'No bids yet.');
  const ladderMore = h('p', { class: 'muted small', hidden: true });

  root.append(
    h('div', { class: 'view-head' }, heading,
      h('div', { class: 'head-meta' }, statusEl, h('span', { class: 'stream-label' }, 'Stream ', streamEl))),
    liveError, cancelError, extendedNote, actions,
    h('div', { class: 'live-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'details-title' },
        h('h2', { id: 'details-title' }, 'Details'), details),
      result,
      h('section', { class: 'panel chart-panel', 'aria-labelledby': 'chart-title' },
        h('h2', { id: 'chart-title' }, 'Price over time'), chartBox),
      h('section', { class: 'panel ladder-panel', 'aria-labelledby': 'ladder-title' },
        h('h2', { id: 'ladder-title' }, 'Bid ladder'),
        tableWrap('Bid ladder', h('table', { class: 'data', id: 'ladder', 'data-test': 'ladder' },
          h('thead', {}, h('tr', {}, ['Bid', 'Bidder', 'Amount', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
          ladderBody)),
        ladderEmpty, ladderMore)));

  setStream('connecting');

  // --- rendering

  function setStream(state, detail) {
    streamEl.setAttribute('data-state', state);
    streamEl.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), state);
    streamEl.title = detail || '';
  }

  function renderAuction() {
    const a = st.auction;
    if (!a) return;
    heading.textContent = `Auction #${a.id}: ${a.title}`;
    document.title = `Auction #${a.id} · gavel admin`;
    statusEl.className = `badge status-${a.status}`;
    statusEl.setAttribute('data-status', a.status);
    statusEl.textContent = a.status;

    const row = (label, value, test) => [h('dt', {}, label), h('dd', { 'data-test': test }, value)];
    const english = a.kind === 'english';
    details.replaceChildren(...[
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
      row('Highest bid', a.highest_bid
        ? `${money(a.highest_bid.amount, a.currency)} (bid #${a.highest_bid.bid_id}, bidder #${a.highest_bid.bidder_id})`
        : (english || FINAL.has(a.status) ? 'none' : 'sealed until closed'), 'highest-bid'),
      row('Created at', timeEl(a.created_at), 'detail-created_at'),
    ].filter(Boolean).flat());

    if (a.status === 'closing') {
      result.hidden = false;
      fill(result, h('h2', { id: 'result-title' }, 'Result'), h('p', { class: 'muted' }, 'Settling…'));
    } else if (a.result) {
      const r = a.result;
      result.hidden = false;
      fill(result, 
        h('h2', { id: 'result-title' }, 'Result'),
        r.winner_bidder_id == null ? h('p', { class: 'no-winner', 'data-test': 'no-winner' }, 'No winner.') : null,
        h('dl', { class: 'details' },
          h('dt', {}, 'Winner bidder'), h('dd', { 'data-test': 'result-winner' }, r.winner_bidder_id == null ? '—' : `#${r.winner_bidder_id}`),
          h('dt', {}, 'Winning bid'), h('dd', { 'data-test': 'result-bid' }, r.winning_bid_id == null ? '—' : `#${r.winning_bid_id}`),
          h('dt', {}, 'Clearing price'), h('dd', { 'data-test': 'result-price' }, r.clearing_price == null ? '—' : money(r.clearing_price, a.currency)),
          h('dt', {}, 'Closed at'), h('dd', { 'data-test': 'result-closed_at' }, timeEl(r.closed_at)),
          h('dt', {}, 'Win notice'), h('dd', {}, h('span', { class: `badge notice-${r.notice}`, 'data-test': 'result-notice' }, r.notice))));
    } else if (a.status === 'cancelled') {
      result.hidden = false;
      fill(result, h('h2', { id: 'result-title' }, 'Result'), h('p', {}, 'Cancelled: no winner.'));
    } else {
      result.hidden = true;
    }

    const cancellable = a.status === 'scheduled' || a.status === 'open';
    if (st.actionsFor !== cancellable) {
      st.actionsFor = cancellable;
      actions.replaceChildren(cancellable
        ? cancelControl(a, cancelError, (updated) => { mergeAuction(updated); }, { signal, ids: true })
        : '');
    }
  }

  function sortedBids() {
    return [...st.bids.values()].sort((x, y) => y.id - x.id);
  }

  function renderBids(fresh = new Set()) {
    const a = st.auction;
    const bids = sortedBids();
    const winning = a?.result?.winning_bid_id ?? (a?.kind === 'english' && !FINAL.has(a?.status) ? a?.highest_bid?.bid_id ?? bids[0]?.id : null);
    ladderBody.replaceChildren(...bids.slice(0, LADDER_MAX_ROWS).map((b) => h('tr', {
      'data-test': 'ladder-row', 'data-id': b.id, class: fresh.has(b.id) ? 'fresh' : null,
    },
    h('td', { class: 'num' }, `#${b.id}`),
    h('td', { class: 'num' }, `#${b.bidder_id}`),
    h('td', { class: 'num amount', 'data-test': 'ladder-amount' }, money(b.amount, a?.currency),
      b.id === winning ? [' ', h('span', { class: 'badge lead' }, a?.result ? 'winner' : 'leading')] : null),
    h('td', {}, timeEl(b.created_at, {}, fmtClock(b.created_at))))));
    ladderEmpty.hidden = bids.length > 0;
    ladderMore.hidden = bids.length <= LADDER_MAX_ROWS;
    ladderMore.textContent = `Showing the newest ${LADDER_MAX_ROWS} of ${bids.length} bids.`;
    renderChart(bids);
  }

  function renderChart(bidsDesc) {
    const pts = bidsDesc.slice().reverse()
      .map((b) => ({ b, t: Date.parse(b.created_at), v: Number.parseFloat(b.amount) }))
      .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
    const W = 640, H = 260, L = 12, R = 12, T = 24, B = 44;
    const svg = s('svg', {
      viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'chart', 'data-test': 'chart', role: 'img',
      'data-points': pts.length,
    });
    if (!pts.length) {
      svg.setAttribute('aria-label', 'Price over time: no bids yet');
      svg.append(s('text', { x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'No bids yet'));
      chartBox.replaceChildren(svg);
      return;
    }
    let lo = pts[0].b.amount, hi = pts[0].b.amount;
    for (const p of pts) {
      if (cmpDec(p.b.amount, lo) < 0) lo = p.b.amount;
      if (cmpDec(p.b.amount, hi) > 0) hi = p.b.amount;
    }
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
    let v0 = Number.parseFloat(lo), v1 = Number.parseFloat(hi);
    if (v1 === v0) { v0 -= Math.abs(v0) * 0.1 || 1; v1 += Math.abs(v1) * 0.1 || 1; }
    const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
    const y = (v) => T + (1 - (v - v0) / (v1 - v0)) * (H - T - B);
    svg.setAttribute('aria-label', `Price over time: ${pts.length} bid${pts.length === 1 ? '' : 's'}, from ${lo} to ${hi}`);
    append(svg, [
      s('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }),
      s('line', { x1: L, x2: W - R, y1: y(Number.parseFloat(hi)), y2: y(Number.parseFloat(hi)), class: 'grid' }),
      s('line', { x1: L, x2: W - R, y1: y(Number.parseFloat(lo)), y2: y(Number.parseFloat(lo)), class: 'grid' }),
      s('text', { x: L, y: y(Number.parseFloat(hi)) - 7, class: 'label', 'data-test': 'chart-max' }, `max ${money(hi, st.auction?.currency)}`),
      s('text', { x: L, y: y(Number.parseFloat(lo)) + 15, class: 'label', 'data-test': 'chart-min' }, `min ${money(lo, st.auction?.currency)}`),
      s('text', { x: L, y: H - 8, class: 'label' }, fmtClock(pts[0].b.created_at)),
      s('text', { x: W - R, y: H - 8, class: 'label', 'text-anchor': 'end' }, fmtClock(pts[pts.length - 1].b.created_at)),
      s('polyline', {
        class: 'line', 'data-test': 'chart-line', fill: 'none',
        points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
      }),
      pts.map((p) => s('circle', {
        class: 'point', 'data-test': 'chart-point', 'data-id': p.b.id, 'data-amount': p.b.amount,
        cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 4,
      }, s('title', {}, `${money(p.b.amount, st.auction?.currency)} at ${fmtClock(p.b.created_at)} (bid #${p.b.id})`)))]);
    chartBox.replaceChildren(svg);
  }

  // --- state updates

  function mergeAuction(next) {
    if (!next || typeof next !== 'object') return;
    const cur = st.auction;
    if (cur && FINAL.has(cur.status) && !FINAL.has(next.status)) return; // never regress
    if (cur && !FINAL.has(next.status)) {
      // a read may lag the stream by a little: keep what the stream already told us
      if (Date.parse(cur.ends_at) > Date.parse(next.ends_at)) next = { ...next, ends_at: cur.ends_at };
      if (cur.bid_count > next.bid_count) next = { ...next, bid_count: cur.bid_count };
      if (cur.highest_bid && (!next.highest_bid || cmpDec(cur.highest_bid.amount, next.highest_bid.amount) > 0)) {
        next = { ...next, highest_bid: cur.highest_bid };
      }
    }
    if (cur && FINAL.has(next.status) && !next.highest_bid && cur.highest_bid && next.status === 'cancelled') {
      next = { ...next, highest_bid: cur.highest_bid };
    }
    st.auction = next;
    if (FINAL.has(next.status) && !st.finished) finish();
    renderAuction();
    renderBids();
  }

  function addBid(b) {
    if (b == null || b.id == null || st.bids.has(b.id)) return false;
    st.bids.set(b.id, b);
    if (st.bids.size > MAX_BIDS_KEPT * 1.1) {
      const keep = sortedBids().slice(0, MAX_BIDS_KEPT);
      st.bids = new Map(keep.map((x) => [x.id, x]));
    }
    return true;
  }

  // Bursts of bid events are drawn at most every 50 ms.
  function scheduleRender(fresh, auctionToo) {
    for (const f of fresh) st.pendingFresh.add(f);
    st.pendingAuction ||= auctionToo;
    st.renderTimer ??= setTimeout(() => {
      st.renderTimer = null;
      if (st.pendingAuction) renderAuction();
      renderBids(st.pendingFresh);
      st.pendingFresh = new Set();
      st.pendingAuction = false;
    }, 50);
  }

  async function loadBids() {
    let r;
    try { r = await api('GET', `/api/auctions/${id}/bids?limit=${LADDER_LIMIT}`, undefined, { signal }); } catch { return; }
    if (!r.ok) { showProblem(liveError, r.problem, 'Could not load bids'); return; }
    const fresh = new Set();
    for (const b of r.data?.items ?? []) {
      if (st.bids.has(b.id)) st.bids.set(b.id, { ...st.bids.get(b.id), ...b });
      else if (addBid(b) && st.loadedOnce) fresh.add(b.id);
    }
    st.loadedOnce = true;
    renderBids(fresh);
  }

  async function loadAuction() {
    let r;
    try { r = await api('GET', `/api/auctions/${id}`, undefined, { signal }); } catch { return null; }
    if (!r.ok) { showProblem(liveError, r.problem); return r; }
    mergeAuction(r.data);
    return r;
  }

  function scheduleBids() {
    clearTimeout(st.bidsTimer);
    st.bidsTimer = setTimeout(loadBids, 300);
  }

  function onEvent(ev) {
    if (ev.id != null && /^\d+$/.test(ev.id)) {
      const n = BigInt(ev.id);
      if (st.lastEventId != null && n <= st.lastEventId) return; // replayed twice: already applied
      st.lastEventId = n;
      st.lastEventIdRaw = ev.id;
    }
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    const a = st.auction;
    switch (ev.type) {
      case 'bid':
        if (data && data.id != null && data.amount != null) {
          if (addBid(data)) {
            if (a) {
              st.auction = {
                ...a,
                bid_count: a.bid_count + 1,
                highest_bid: a.kind === 'english' && (!a.highest_bid || cmpDec(data.amount, a.highest_bid.amount) > 0)
                  ? { bid_id: data.id, bidder_id: data.bidder_id, amount: data.amount }
                  : a.highest_bid,
              };
            }
            scheduleRender([data.id], !!a);
          }
        } else if (data && data.bid_count != null) {
          if (a && data.bid_count > a.bid_count) { st.auction = { ...a, bid_count: data.bid_count }; renderAuction(); }
          scheduleBids(); // sealed: the admin may list every bid
        }
        break;
      case 'extended':
        if (a && data?.ends_at) {
          st.extensions += 1;
          st.auction = { ...a, ends_at: data.ends_at };
          renderAuction();
          extendedNote.replaceChildren(h('strong', {}, 'Extended'), ': a late bid moved the end to ',
            timeEl(data.ends_at), st.extensions > 1 ? ` (${st.extensions} extensions)` : '', '.');
          extendedNote.hidden = false;
          extendedNote.classList.remove('flash');
          void extendedNote.offsetWidth; // restart the highlight
          extendedNote.classList.add('flash');
        }
        break;
      case 'closed':
      case 'cancelled':
        st.finished = true;
        mergeAuction(data);
        finish();
        break;
      default:
        break;
    }
  }

  // Called once the auction is known to be closed or cancelled.
  function finish() {
    st.finished = true;
    const ctrl = st.streamCtrl;
    st.streamCtrl = null;
    if (ctrl) setTimeout(() => ctrl.abort(), 0);
    setStream('ended');
    if (st.auction?.status === 'closed' && !st.noticePolling) {
      st.noticePolling = true;
      (async () => {
        await loadAuction(); // the admin's full view of the result
        await loadBids();
        for (let i = 0; i < NOTICE_POLLS && st.auction?.result?.notice === 'pending' && !signal.aborted; i++) {
          await sleep(2000, signal);
          if (!signal.aborted) await loadAuction();
        }
      })();
    }
  }

  // --- the stream loop

  async function runStream() {
    let failures = 0;
    let first = true;
    while (!signal.aborted && !st.finished) {
      if (!first) {
        setStream('reconnecting');
        await sleep(st.nextDelay ?? Math.min(st.retryMs * 2 ** failures, MAX_RETRY_MS), signal);
        st.nextDelay = null;
        if (signal.aborted || st.finished) break;
      }
      first = false;
      const ctrl = new AbortController();
      const stop = () => ctrl.abort();
      signal.addEventListener('abort', stop, { once: true });
      st.streamCtrl = ctrl;
      const headers = { Accept: 'text/event-stream', ...authHeaders() };
      if (st.lastEventIdRaw != null) headers['Last-Event-ID'] = st.lastEventIdRaw;
      try {
        const res = await fetch(`/api/auctions/${id}/events`, {
          headers, signal: ctrl.signal, cache: 'no-store', credentials: 'omit',
        });
        if (!res.ok) {
          let problem;
          try { problem = await res.json(); } catch { problem = { title: `HTTP ${res.status}`, status: res.status }; }
          if (res.status === 401) { sessionEnded(problem); return; }
          if (res.status === 429 || res.status >= 500) {
            const ra = Number.parseInt(res.headers.get('Retry-After') || '', 10);
            if (ra > 0) st.nextDelay = Math.min(ra * 1000, 5 * 60_000);
            failures += 1;
            setStream('reconnecting', problemMessage(problem));
            continue;
          }
          setStream('error', problemMessage(problem));
          showProblem(liveError, problem, 'Live updates unavailable');
          return;
        }
        setStream('live');
        failures = 0;
        // catch up on anything the stream does not replay (first load, or a gap)
        loadAuction().then(() => loadBids());
        await readSse(res.body, {
          onEvent,
          onRetry: (ms) => { st.retryMs = Math.max(100, Math.min(ms, MAX_RETRY_MS)); },
          idleMs: STREAM_IDLE_MS,
        });
      } catch (e) {
        if (signal.aborted || st.finished) break;
        failures += 1;
      } finally {
        signal.removeEventListener('abort', stop);
        if (st.streamCtrl === ctrl) st.streamCtrl = null;
      }
      // the stream ended without closed/cancelled: ask whether the auction is over
      if (!st.finished && !signal.aborted) {
        setStream('reconnecting');
        await loadAuction();
      }
    }
    if (st.finished) setStream('ended');
  }

  (async () => {
    const r = await loadAuction();
    if (!r || signal.aborted) return;
    if (!r.ok) { setStream('error', problemMessage(r.problem)); return; }
    loadBids();
    if (FINAL.has(st.auction.status)) { setStream('ended'); return; }
    runStream();
  })();

  return {
    cleanup: () => {
      ac.abort();
      clearTimeout(st.bidsTimer);
      clearTimeout(st.renderTimer);
    },
    tick: () => {
      const a = st.auction;
      if (!a || signal.aborted) return;
      // status moves by the clock (scheduled -> open -> closing): re-read once when it should
      const edge = a.status === 'scheduled' ? a.starts_at : a.status === 'open' ? a.ends_at : null;
      if (edge && now() >= Date.parse(edge) + 700 && st.refreshedAt !== `${a.status}@${edge}`) {
        st.refreshedAt = `${a.status}@${edge}`;
        loadAuction();
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Bidders

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

function secretRow(name, label, value) {
  const input = h('input', {
    type: 'text', readonly: true, id: `created-${name}`, 'data-test': `created-${name.replace('_', '-')}`,
    class: 'secret', value, autocomplete: 'off', spellcheck: 'false',
  });
  const status = h('span', { class: 'copy-status', 'aria-live': 'polite', 'data-test': `copy-status-${name.replace('_', '-')}` });
  return h('div', { class: 'secret-row' },
    h('label', { for: input.id }, label),
    h('div', { class: 'secret-line' }, input,
      h('button', {
        type: 'button', class: 'btn', id: `copy-${name}`, 'data-test': `copy-${name.replace('_', '-')}`,
        onclick: () => copyText(input, status),
      }, 'Copy')),
    status);
}

function biddersView(root, params) {
  const ac = new AbortController();
  const cursor = params.get('cursor') || '';
  document.title = 'Bidders · gavel admin';

  const general = h('div', { id: 'bidder-error', 'data-test': 'bidder-error', class: 'error form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'bidder-submit', 'data-test': 'bidder-submit' }, 'Create bidder');
  const form = h('form', { id: 'bidder-form', 'data-test': 'bidder-form', novalidate: true, class: 'form-grid', onsubmit },
    field('name', 'Name', textInput({ id: 'bidder-name', spellcheck: 'true', 'aria-required': 'true' }), 'An exchange or seat.'),
    field('webhook_url', 'Webhook URL (optional)', textInput({ id: 'bidder-webhook_url', type: 'url', inputmode: 'url', placeholder: 'https://…' }),
      'Win notices are POSTed here. Public http(s) addresses only.'),
    h('div', { class: 'form-actions' }, general, submit));
  const created = h('div', { id: 'created-slot' });
  const listError = h('div', { id: 'bidders-error', 'data-test': 'list-error', class: 'error', role: 'alert', hidden: true });
  const tbody = h('tbody', { id: 'bidders-body' });
  const empty = h('p', { class: 'muted', hidden: true, 'data-test': 'bidders-empty' }, 'No bidders.');
  const pagerSlot = h('div');
  let pageCursor = cursor;

  root.append(
    h('div', { class: 'view-head' }, h('h1', { tabindex: '-1' }, 'Bidders')),
    h('section', { class: 'panel', 'aria-labelledby': 'new-bidder-title' },
      h('h2', { id: 'new-bidder-title' }, 'New bidder'), form),
    created,
    listError,
    tableWrap('Bidders', h('table', { class: 'data', id: 'bidders-table', 'data-test': 'bidders-table' },
      h('thead', {}, h('tr', {}, ['ID', 'Name', 'Webhook URL', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    empty, pagerSlot);

  async function load() {
    showMessage(listError, '');
    const qs = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (pageCursor) qs.set('cursor', pageCursor);
    let r;
    try { r = await api('GET', `/api/bidders?${qs}`, undefined, { signal: ac.signal }); } catch { return; }
    if (!r.ok) { showProblem(listError, r.problem); return; }
    const items = r.data?.items ?? [];
    tbody.replaceChildren(...items.map((b) => h('tr', { 'data-test': 'bidder-row', 'data-id': b.id },
      h('td', { class: 'num' }, String(b.id)),
      h('td', {}, b.name),
      h('td', { class: 'url' }, b.webhook_url ?? h('span', { class: 'muted' }, '—')),
      h('td', {}, timeEl(b.created_at)))));
    empty.hidden = items.length > 0;
    pagerSlot.replaceChildren(pager('bidders', {
      hasCursor: !!pageCursor,
      nextCursor: r.data?.next_cursor,
      onFirst: () => { location.hash = '#/bidders'; },
      onNext: () => { location.hash = hashWith('/bidders', { cursor: r.data.next_cursor }); },
    }));
  }

  async function onsubmit(e) {
    e.preventDefault();
    clearErrors(form);
    const body = { name: form.elements.name.value };
    const url = form.elements.webhook_url.value.trim();
    if (url) body.webhook_url = url;
    submit.disabled = true;
    let r;
    try { r = await api('POST', '/api/bidders', body, { signal: ac.signal }); } catch { return; } finally { submit.disabled = false; }
    if (!r.ok) {
      if (r.problem?.code === 'validation_failed') showFieldErrors(form, general, r.problem);
      else showProblem(general, r.problem);
      return;
    }
    const b = r.data;
    form.reset();
    const panel = h('section', {
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
      onclick: () => { created.replaceChildren(); form.elements.name.focus(); },
    }, 'Done: hide them'));
    created.replaceChildren(panel);
    panel.focus();
    // show the new bidder on the first page, without re-routing (which would drop the panel)
    if (pageCursor) {
      pageCursor = '';
      history.replaceState(null, '', '#/bidders');
    }
    load();
  }

  load();
  return { cleanup: () => ac.abort() };
}

// ---------------------------------------------------------------------------
// Start

function start() {
  $('#signin-form').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => route(true));
  setInterval(() => {
    tickCountdowns();
    try { current?.tick?.(); } catch (e) { console.error(e); }
  }, 1000);
  route(false);
}

start();
