// The admin token lives only in this tab's sessionStorage (never a cookie, never a URL),
// so closing the tab signs out and no other tab or request can pick it up.

const TOKEN_KEY = 'gavel.adminToken';

let memoryToken = null; // used only when sessionStorage is unavailable (e.g. blocked storage)

export const auth = {
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

export function authHeaders(token = auth.get()) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}
