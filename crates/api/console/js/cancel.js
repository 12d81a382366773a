// "Cancel auction" with an in-page confirmation (window.confirm would block the page's
// live updates and cannot be styled or driven by keyboard tests).

import { api } from './api.js';
import { $$, h } from './dom.js';
import { showMessage, showProblem } from './problems.js';

// Returns a slot holding the Cancel button; calls done(auction) once the auction is
// cancelled (or found already final) and shows problems in `errorEl`. `ids` gives the
// buttons ids too, for the live view where there is only one of them.
export function cancelControl(auction, errorEl, done, { signal, ids = false } = {}) {
  const ctl = { auction, errorEl, done, signal, ids, slot: h('span', { class: 'cancel-slot' }), button: null };
  ctl.button = h('button', {
    type: 'button',
    class: 'btn btn-danger btn-small',
    'data-test': 'cancel-button',
    'data-id': auction.id,
    id: ids ? 'cancel-button' : null,
    'aria-label': `Cancel auction ${auction.id}`,
    onclick: () => openConfirm(ctl),
  }, 'Cancel');
  ctl.slot.append(ctl.button);
  return ctl.slot;
}

function openConfirm(ctl) {
  // one confirm at a time, so "Yes" can never act on a row the user is not looking at
  for (const no of $$('[data-test="cancel-no"]')) no.click();
  showMessage(ctl.errorEl, '');
  const { auction, ids } = ctl;
  const yes = h('button', {
    type: 'button', class: 'btn btn-danger btn-small', 'data-test': 'cancel-yes',
    id: ids ? 'cancel-yes' : null, onclick: () => confirmYes(ctl, yes, no),
  }, 'Yes, cancel it');
  const no = h('button', {
    type: 'button', class: 'btn btn-small', 'data-test': 'cancel-no',
    id: ids ? 'cancel-no' : null, onclick: () => closeConfirm(ctl),
  }, 'No');
  const box = h('span', {
    class: 'confirm', role: 'group', 'aria-label': `Confirm cancelling auction ${auction.id}`,
    'data-test': 'cancel-confirm', id: ids ? 'cancel-confirm' : null,
    onkeydown: (e) => { if (e.key === 'Escape') closeConfirm(ctl); },
  }, h('span', { class: 'confirm-q' }, 'Really cancel?'), ' ', yes, ' ', no);
  ctl.slot.replaceChildren(box);
  // the safe answer has focus: Enter right after opening does not cancel
  no.focus();
}

async function confirmYes(ctl, yes, no) {
  const { auction, signal } = ctl;
  yes.disabled = true;
  no.disabled = true;
  let r;
  try {
    r = await api('POST', `/api/auctions/${auction.id}/cancel`, undefined, { signal });
  } catch { return; }
  if (r.ok) {
    ctl.done(r.data);
    return;
  }
  showProblem(ctl.errorEl, r.problem, `Could not cancel auction #${auction.id}`);
  closeConfirm(ctl);
  // 409: it changed behind our back (closed, or cancelled elsewhere): show what it is now
  if (r.status === 409) {
    const fresh = await api('GET', `/api/auctions/${auction.id}`, undefined, { signal }).catch(() => null);
    if (fresh?.ok) ctl.done(fresh.data);
  }
}

function closeConfirm(ctl) {
  const hadFocus = ctl.slot.contains(document.activeElement);
  ctl.slot.replaceChildren(ctl.button);
  if (hadFocus) ctl.button.focus();
}
