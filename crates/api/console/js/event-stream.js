// Server-Sent Events over fetch(). EventSource cannot send an Authorization header (and the
// token must never go into a URL), so the stream is a fetch() with a streamed body, parsed
// here, with EventSource's reconnect rules done by hand:
// - reconnect after `retry:` (2 s by default), doubling up to 30 s while attempts keep
//   failing; a 429/5xx's Retry-After wins once;
// - every reconnect sends Last-Event-ID, and events whose integer id is not above the last
//   one seen are dropped (a replay may overlap what already arrived);
// - 45 s without a byte counts as a dropped connection (the server comments every 15 s).

import { reportUnauthorized } from './api.js';
import { authHeaders } from './auth.js';
import { problemMessage } from './problems.js';
import { sleep } from './time.js';

const DEFAULT_RETRY_MS = 2000;
const MAX_RETRY_MS = 30000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const STREAM_IDLE_MS = 45000;

// How one connection attempt ended, which decides what the loop does next.
const DROPPED = 'dropped'; // connected (or a network error): check the auction, then retry
const RETRY = 'retry'; // refused for now (429/5xx): back off and retry, nothing else
const QUIT = 'quit'; // refused for good (401 and other 4xx): no retry, no "ended"
const OVER = 'over'; // aborted or stopped during the attempt

/**
 * One event stream's state.
 * @typedef {object} Stream
 * @property {string} url
 * @property {AbortSignal} signal   the owner's; aborting it ends the stream for good
 * @property {StreamHandlers} on
 * @property {boolean} stopped      set by stop(): the owner knows it is over, do not reconnect
 * @property {AbortController|null} ctrl  the request in flight, if any
 * @property {bigint|null} lastId   highest integer event id seen (BigInt: ids may pass 2^53)
 * @property {string|null} lastIdRaw  the same id as the server wrote it, for Last-Event-ID
 * @property {number} retryMs       base reconnect delay (the server's `retry:`)
 * @property {number|null} nextDelay  a Retry-After that replaces the next backoff once
 * @property {number} failures      failed attempts since the last good connect
 *
 * @typedef {object} StreamHandlers
 * @property {(ev: {type: string, data: string, id: string|null}) => void} onEvent
 * @property {(state: string, detail?: string) => void} onState  'live' | 'reconnecting' | 'error' | 'ended'
 * @property {() => void} onOpen      after each connect: re-read what the stream does not replay
 * @property {() => Promise<unknown>} onDropped  the body ended unasked: find out whether it is over
 * @property {(problem: object) => void} onRefused  a 4xx other than 401 or 429
 */

// Connects at once ('connecting' is the owner's initial state); returns {stop()}.
export function openEventStream(url, { signal, ...on }) {
  /** @type {Stream} */
  const st = {
    url, signal, on, stopped: false, ctrl: null, lastId: null, lastIdRaw: null,
    retryMs: DEFAULT_RETRY_MS, nextDelay: null, failures: 0,
  };
  run(st);
  return { stop: () => stop(st) };
}

// Deferred: stop() is usually called from inside onEvent, in the middle of reading this
// very body; the abort lands once that handler has returned.
function stop(st) {
  st.stopped = true;
  const ctrl = st.ctrl;
  st.ctrl = null;
  if (ctrl) setTimeout(() => ctrl.abort(), 0);
}

const over = (st) => st.signal.aborted || st.stopped;

async function run(st) {
  let first = true;
  while (!over(st)) {
    if (!first && !(await backoff(st))) break;
    first = false;
    const outcome = await attempt(st);
    if (outcome === QUIT) return;
    if (outcome === OVER) break;
    if (outcome === RETRY) continue;
    // the stream ended without closed/cancelled: ask whether the auction is over
    if (!over(st)) {
      st.on.onState('reconnecting');
      await st.on.onDropped();
    }
  }
  if (st.stopped) st.on.onState('ended');
}

// Waits before the next attempt; false when the stream ended meanwhile.
async function backoff(st) {
  st.on.onState('reconnecting');
  await sleep(st.nextDelay ?? Math.min(st.retryMs * 2 ** st.failures, MAX_RETRY_MS), st.signal);
  st.nextDelay = null;
  return !over(st);
}

async function attempt(st) {
  const ctrl = new AbortController();
  const abort = () => ctrl.abort();
  st.signal.addEventListener('abort', abort, { once: true });
  st.ctrl = ctrl;
  const headers = { Accept: 'text/event-stream', ...authHeaders() };
  if (st.lastIdRaw != null) headers['Last-Event-ID'] = st.lastIdRaw;
  try {
    const res = await fetch(st.url, { headers, signal: ctrl.signal, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return await refused(st, res);
    st.on.onState('live');
    st.failures = 0;
    st.on.onOpen();
    await readSse(res.body, {
      onEvent: (ev) => deliver(st, ev),
      onRetry: (ms) => { st.retryMs = Math.max(100, Math.min(ms, MAX_RETRY_MS)); },
      idleMs: STREAM_IDLE_MS,
    });
    return DROPPED;
  } catch {
    if (over(st)) return OVER;
    st.failures += 1;
    return DROPPED;
  } finally {
    st.signal.removeEventListener('abort', abort);
    if (st.ctrl === ctrl) st.ctrl = null;
  }
}

async function refused(st, res) {
  let problem;
  try { problem = await res.json(); } catch { problem = { title: `HTTP ${res.status}`, status: res.status }; }
  if (res.status === 401) { reportUnauthorized(problem); return QUIT; }
  if (res.status === 429 || res.status >= 500) {
    const ra = Number.parseInt(res.headers.get('Retry-After') || '', 10);
    if (ra > 0) st.nextDelay = Math.min(ra * 1000, MAX_RETRY_AFTER_MS);
    st.failures += 1;
    st.on.onState('reconnecting', problemMessage(problem));
    return RETRY;
  }
  st.on.onState('error', problemMessage(problem));
  st.on.onRefused(problem);
  return QUIT;
}

function deliver(st, ev) {
  if (ev.id != null && /^\d+$/.test(ev.id)) {
    const n = BigInt(ev.id);
    if (st.lastId != null && n <= st.lastId) return; // replayed twice: already applied
    st.lastId = n;
    st.lastIdRaw = ev.id;
  }
  st.on.onEvent(ev);
}

// ---------------------------------------------------------------------------
// The SSE wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html)

// Reads an SSE body; calls onEvent({type, data, id}) per event and onRetry(ms).
// Resolves when the body ends (or goes idle); rejects on network errors or abort.
export async function readSse(body, { onEvent, onRetry, idleMs }) {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8'); // strips a leading BOM
  const parser = { buf: '', type: '', data: [], id: null, onEvent, onRetry };
  let idle = null;
  const arm = () => {
    clearTimeout(idle);
    // cancelling ends the read loop as if the body ended: the caller reconnects
    idle = setTimeout(() => reader.cancel(new Error('stream idle')).catch(() => {}), idleMs);
  };
  arm();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) { feed(parser, decoder.decode(), true); break; } // an unterminated last event is dropped
      arm();
      feed(parser, decoder.decode(value, { stream: true }), false);
    }
  } finally {
    clearTimeout(idle);
  }
}

// Splits on \n, \r\n and \r; a chunk may end between the \r and \n of one line break.
function feed(p, text, final) {
  p.buf += text;
  let start = 0;
  for (let i = 0; i < p.buf.length; i++) {
    const c = p.buf.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    if (c === 13 && i + 1 === p.buf.length && !final) break; // "\r" may be half of "\r\n"
    line(p, p.buf.slice(start, i));
    if (c === 13 && p.buf.charCodeAt(i + 1) === 10) i++;
    start = i + 1;
  }
  p.buf = p.buf.slice(start);
}

function line(p, l) {
  if (l === '') { dispatch(p); return; }
  if (l[0] === ':') return; // comment / keep-alive
  const i = l.indexOf(':');
  const name = i === -1 ? l : l.slice(0, i);
  let value = i === -1 ? '' : l.slice(i + 1);
  if (value[0] === ' ') value = value.slice(1);
  if (name === 'event') p.type = value;
  else if (name === 'data') p.data.push(value);
  else if (name === 'id') { if (!value.includes('\0')) p.id = value; }
  else if (name === 'retry') { if (/^\d+$/.test(value)) p.onRetry(Number(value)); }
}

function dispatch(p) {
  if (p.data.length) p.onEvent({ type: p.type || 'message', data: p.data.join('\n'), id: p.id });
  p.type = '';
  p.data = [];
  p.id = null;
}
