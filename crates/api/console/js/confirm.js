// An in-page confirmation for one action (as cancel.js does for auctions): a button that
// opens "question? Yes / No" with the safe answer focused; Escape or No closes it.

import { $$, h } from './dom.js';

// `test` names the data-test attributes (`${test}-button`, `-yes`, `-no`, `-confirm`);
// `onYes()` runs the action and resolves when done (the control then shows its button
// again).
export function confirmControl({ test, label, question, yes, danger = false, onYes }) {
  const slot = h('span', { class: 'confirm-slot' });
  const cls = danger ? 'btn btn-danger btn-small' : 'btn btn-small';
  const button = h('button', { type: 'button', class: cls, 'data-test': `${test}-button`, onclick: () => open() }, label);
  const close = () => { slot.replaceChildren(button); button.focus(); };
  function open() {
    // one confirm at a time, so "Yes" never acts on a row the user is not looking at
    for (const no of $$('[data-confirm-no]')) no.click();
    const yesBtn = h('button', {
      type: 'button', class: cls, 'data-test': `${test}-yes`,
      onclick: async () => {
        yesBtn.disabled = true;
        noBtn.disabled = true;
        try { await onYes(); } finally { if (slot.isConnected) close(); }
      },
    }, yes);
    const noBtn = h('button', { type: 'button', class: 'btn btn-small', 'data-test': `${test}-no`, 'data-confirm-no': '', onclick: close }, 'No');
    slot.replaceChildren(h('span', {
      class: 'confirm', role: 'group', 'aria-label': question, 'data-test': `${test}-confirm`,
      onkeydown: (e) => { if (e.key === 'Escape') close(); },
    }, h('span', { class: 'confirm-q' }, question), ' ', yesBtn, ' ', noBtn));
    noBtn.focus();
  }
  slot.append(button);
  return slot;
}
