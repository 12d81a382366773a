// The create-auction form (#/auctions/new). Times are typed in local time and sent as UTC,
// with the UTC value shown beside each field so there is no doubt which instant is meant.

import { api } from './api.js';
import { KINDS } from './constants.js';
import { h } from './dom.js';
import { clearErrors, field, showFieldErrors, textInput } from './forms.js';
import { showMessage, showProblem } from './problems.js';
import { localToUtc, toLocalInput } from './time.js';

/**
 * The form's state: its controls and the view's abort controller.
 * @typedef {object} CreateView
 * @property {AbortController} ac
 * @property {HTMLFormElement} form
 * @property {HTMLSelectElement} kind
 * @property {HTMLInputElement[]} englishOnly  min_increment, extend_secs
 * @property {[HTMLInputElement, HTMLOutputElement][]} utc  each date field and its UTC echo
 * @property {HTMLElement} general  problems that belong to no field
 * @property {HTMLButtonElement} submit
 */

export function newAuctionView(root) {
  document.title = 'New auction · gavel admin';
  const v = buildForm(new AbortController());
  v.kind.addEventListener('change', () => syncKind(v));
  for (const [input] of v.utc) input.addEventListener('input', () => syncUtc(v));
  syncKind(v);
  syncUtc(v);
  root.append(h('div', { class: 'view-head' }, h('h1', { tabindex: '-1' }, 'New auction')),
    h('section', { class: 'panel' }, v.form));
  return { cleanup: () => v.ac.abort() };
}

function timeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return ''; }
}

/** @returns {CreateView} */
function buildForm(ac) {
  const tz = timeZone();
  const local = `Local time${tz ? ` (${tz})` : ''}`;
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
  const v = { ac, kind, englishOnly: [minInc, extend], utc: [[startsAt, startsUtc], [endsAt, endsUtc]], general, submit };

  v.form = h('form', { id: 'create-form', 'data-test': 'create-form', novalidate: true, class: 'form-grid', onsubmit: (e) => onSubmit(v, e) },
    field('title', 'Title', textInput({ spellcheck: 'true', 'aria-required': 'true' }), '1 to 200 characters.'),
    field('kind', 'Kind', kind, 'english: open, ascending; first_price / second_price: sealed.'),
    field('currency', 'Currency', textInput({ value: 'USD', autocapitalize: 'characters', size: '4' }), 'Three upper-case letters.'),
    field('reserve_price', 'Reserve price', textInput({ inputmode: 'decimal', placeholder: '0' }), 'Decimal, e.g. 1.00. Empty: 0.'),
    field('min_increment', 'Minimum increment', minInc, 'English only. Empty: 0.01.'),
    field('extend_secs', 'Extend (seconds)', extend, 'English only, 0–3600: a bid this close to the end extends it.'),
    field('starts_at', 'Starts at', startsAt, h('span', {}, `${local}; empty: now. `, startsUtc)),
    field('ends_at', 'Ends at', endsAt, h('span', {}, `${local}; at most 30 days after the start. `, endsUtc)),
    h('div', { class: 'form-actions' }, general, submit));
  return v;
}

// Sealed kinds have no increment or extension: disabling (rather than hiding) keeps the
// layout still and tells why via the hint.
function syncKind(v) {
  const english = v.kind.value === 'english';
  for (const el of v.englishOnly) {
    el.disabled = !english;
    el.closest('.field').classList.toggle('is-disabled', !english);
  }
}

function syncUtc(v) {
  for (const [input, out] of v.utc) {
    const utc = localToUtc(input.value);
    out.textContent = utc ? `= ${utc.replace('.000Z', 'Z')}` : '';
  }
}

// The request body, plus the date errors the browser can already tell (an incomplete
// datetime-local reads as '' and would otherwise be silently sent as "now").
function collectBody(v) {
  const form = v.form;
  const val = (name) => form.elements[name].value.trim();
  const body = { title: form.elements.title.value, kind: v.kind.value };
  if (val('currency')) body.currency = val('currency');
  if (val('reserve_price')) body.reserve_price = val('reserve_price');
  if (v.kind.value === 'english') {
    if (val('min_increment')) body.min_increment = val('min_increment');
    if (val('extend_secs')) {
      const raw = val('extend_secs');
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
  return { body, local };
}

async function onSubmit(v, e) {
  e.preventDefault();
  clearErrors(v.form);
  const { body, local } = collectBody(v);
  if (local.length) {
    showFieldErrors(v.form, v.general, { title: 'Invalid input', errors: local });
    return;
  }
  v.submit.disabled = true;
  let r;
  try { r = await api('POST', '/api/auctions', body, { signal: v.ac.signal }); } catch { return; } finally { v.submit.disabled = false; }
  if (r.ok && r.data?.id != null) {
    location.hash = `#/auctions/${r.data.id}`;
  } else if (r.ok) {
    showMessage(v.general, 'Created, but the answer named no auction.');
  } else if (r.problem?.code === 'validation_failed') {
    showFieldErrors(v.form, v.general, r.problem);
  } else {
    showProblem(v.general, r.problem);
  }
}
