// Form fields and their errors, shared by the create-auction and bidder forms. Each
// control's `name` is the API field, so a validation problem's `errors[].field` finds it.

import { $$, h } from './dom.js';
import { showProblem } from './problems.js';

// A labelled control with its hint and an error slot (`#err-<name>`) it is described by,
// so screen readers read the error when the field is focused.
export function field(name, label, control, hint) {
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

export const textInput = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });

export function clearErrors(form) {
  for (const el of $$('.field-error, .form-error', form)) { el.replaceChildren(); el.hidden = true; }
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
}

// Puts each `errors[]` entry beside its field (`#err-<field>`); the rest in `general`.
// The first invalid field takes focus so keyboard users land where the fix is.
export function showFieldErrors(form, general, problem) {
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  const rest = [];
  let first = null;
  for (const e of errors) {
    const input = markFieldError(form, e);
    if (input === undefined) rest.push(`${e.field}: ${e.message}`);
    else first ??= input;
  }
  if (rest.length || !errors.length) {
    showProblem(general, problem);
    if (rest.length) general.append(h('ul', {}, rest.map((r) => h('li', {}, r))));
  }
  first?.focus();
}

// undefined: the form has no such field; null: an error box but no control to mark.
function markFieldError(form, e) {
  const box = form.querySelector(`#err-${CSS.escape(String(e.field))}`);
  if (!box) return undefined;
  box.append(box.childNodes.length ? `; ${e.message}` : e.message);
  box.hidden = false;
  const input = form.querySelector(`[name="${CSS.escape(String(e.field))}"]`);
  if (!input) return null;
  input.setAttribute('aria-invalid', 'true');
  return input;
}
