// The route lives in the URL hash (`#/path?query`) so the page works from one static file
// and every view can be bookmarked or reloaded.

export function parseHash() {
  let raw = location.hash.replace(/^#/, '');
  try { raw = decodeURI(raw); } catch { /* keep it as it is */ }
  raw ||= '/auctions';
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/';
  return { path, params: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

// Empty values are left out so that default filters keep the URL short.
export function hashWith(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) qs.set(k, v);
  const str = qs.toString();
  return `#${path}${str ? `?${str}` : ''}`;
}
