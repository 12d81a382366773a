// The sign-in form lives in index.html (not built here) so that password managers see a
// real username/password form on page load.

import { api } from './api.js';
import { auth } from './auth.js';
import { $ } from './dom.js';
import { showMessage, showProblem } from './problems.js';

// Shows the sign-in panel (and hides the rest); `message` is a problem to explain why.
export function showSignin(message) {
  $('#view').hidden = true;
  $('#nav').hidden = true;
  $('#signout').hidden = true;
  $('#signin').hidden = false;
  document.title = 'Sign in · gavel admin';
  showMessage($('#signin-error'), '');
  if (message) showProblem($('#signin-error'), message);
  $('#token').focus();
}

// The token is tried on an admin-only endpoint before it is stored, so a wrong one is
// refused here, with the API's own words, rather than on the first view.
export async function signIn(event, onSignedIn) {
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
      onSignedIn();
    } else {
      showProblem(err, r.problem);
      input.focus();
      input.select();
    }
  } finally {
    button.disabled = false;
  }
}
