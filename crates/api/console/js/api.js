// The JSON API client. Every call resolves to {ok, status, data, problem, headers} and
// rejects only when aborted, so views handle failures as data and a left page (aborted
// signal) simply stops.

import { authHeaders } from './auth.js';
import { noteServerClock } from './time.js';

// Set by the entry module; lives here so that any module can end the session on a 401
// without importing the shell (which imports the views: a cycle).
let unauthorized = () => {};

export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function reportUnauthorized(problem) {
  unauthorized(problem);
}

export async function api(method, path, body, { signal, token, on401 = true } = {}) {
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
    return networkFailure();
  }
  noteServerClock(res);
  const data = parseJson(await res.text());
  if (res.ok) return { ok: true, status: res.status, data, problem: null, headers: res.headers };
  const problem = problemOf(res, data);
  if (res.status === 401 && on401) reportUnauthorized(problem);
  return { ok: false, status: res.status, data, problem, headers: res.headers };
}

function networkFailure() {
  return {
    ok: false, status: 0, data: null, headers: new Headers(),
    problem: { title: 'Network error', detail: 'Could not reach the server.', code: 'network_error' },
  };
}

function parseJson(text) {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

// A proxy's HTML error page is not a problem document: describe the status instead.
function problemOf(res, data) {
  return data && typeof data === 'object' && !Array.isArray(data)
    ? data
    : { title: `HTTP ${res.status}`, status: res.status, detail: `The server answered ${res.status} ${res.statusText}`.trim() };
}
