// gavel admin console: the entry module (hash routing and the signed-in shell). Native ES
// modules in ./js/, no bundler and no dependency, so the files served are the files read.
//
// Auth: the admin token lives only in this tab's sessionStorage and is sent only in the
// `Authorization: Bearer` header (never in a URL). The event stream is read with fetch()
// and a streamed body (EventSource cannot send headers), parsed in js/event-stream.js.
// Amounts are shown exactly as the API's decimal strings; floats only place chart points.

import { onUnauthorized } from './js/api.js';
import { auctionsView } from './js/auctions.js';
import { auth } from './js/auth.js';
import { bidderPage } from './js/bidder-page.js';
import { biddersView } from './js/bidders.js';
import { newAuctionView } from './js/create-auction.js';
import { $, $$, h } from './js/dom.js';
import { parseHash } from './js/hash.js';
import { liveView } from './js/live-view.js';
import { problemMessage } from './js/problems.js';
import { showSignin, signIn } from './js/signin.js';
import { tickCountdowns } from './js/widgets.js';

// [path pattern, mount(root, match, params) -> {cleanup?(), tick?()}, nav link to mark]
const ROUTES = [
  [/^\/$|^\/auctions$/, (root, m, params) => auctionsView(root, params), 'nav-auctions'],
  [/^\/auctions\/new$/, (root) => newAuctionView(root), 'nav-new-auction'],
  [/^\/auctions\/([1-9][0-9]*)$/, (root, m) => liveView(root, m[1]), 'nav-auctions'],
  [/^\/bidders$/, (root, m, params) => biddersView(root, params), 'nav-bidders'],
  [/^\/bidders\/([1-9][0-9]*)$/, (root, m) => bidderPage(root, m[1]), 'nav-bidders'],
];

let current = null; // the mounted view: {cleanup(), tick()}

// A view's cleanup aborts its requests and stream, so a left page never draws into the next.
function unmount() {
  if (current) {
    try { current.cleanup?.(); } catch (e) { console.error(e); }
    current = null;
  }
  $('#view').replaceChildren();
}

function signedOut(message) {
  unmount();
  showSignin(message);
}

// Any 401 means the token was revoked or rotated: drop it and say why.
function sessionEnded(problem) {
  if (!auth.get()) return;
  auth.clear();
  signedOut({ ...problem, detail: `Signed out: ${problemMessage(problem)}` });
}

function signOut() {
  auth.clear();
  signedOut();
}

function route(focus = true) {
  if (!auth.get()) { signedOut(); return; }
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
  if (!current) current = notFound(root);
  markNav(navId);
  // moving focus to the new heading tells screen readers the page changed
  if (focus) $('h1', root)?.focus({ preventScroll: false });
}

function notFound(root) {
  root.append(h('h1', { tabindex: '-1' }, 'Not found'),
    h('p', {}, 'No such page. ', h('a', { href: '#/auctions' }, 'Go to auctions')));
  return {};
}

function markNav(navId) {
  for (const a of $$('#nav a')) {
    if (a.id === navId) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function start() {
  onUnauthorized(sessionEnded);
  $('#signin-form').addEventListener('submit', (e) => signIn(e, () => route(true)));
  $('#signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => route(true));
  // one clock for the whole page: countdowns, and the live view's status edges
  setInterval(() => {
    tickCountdowns();
    try { current?.tick?.(); } catch (e) { console.error(e); }
  }, 1000);
  route(false);
}

start();
