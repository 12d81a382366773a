// Clock and date formatting. Countdowns follow the server's clock, not the laptop's: a
// skewed local clock would otherwise show auctions ending at the wrong moment.

let clockOffset = 0; // server clock minus ours, from the Date header (1 s resolution)

export function noteServerClock(res) {
  const t = Date.parse(res.headers.get('Date') || '');
  if (Number.isNaN(t)) return;
  const off = t + 500 - Date.now();
  // under 2 s is within the header's resolution: not worth a jumpy countdown
  clockOffset = Math.abs(off) > 2000 ? off : 0;
}

export const now = () => Date.now() + clockOffset;

export const pad = (n, w = 2) => String(n).padStart(w, '0');

export function fmtTime(iso, withMs = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

export function fmtClock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatLeft(ms) {
  if (!(ms > 0)) return 'ended';
  let sec = Math.ceil(ms / 1000);
  const d = Math.floor(sec / 86400); sec %= 86400;
  const hr = Math.floor(sec / 3600); sec %= 3600;
  const m = Math.floor(sec / 60); sec %= 60;
  if (d) return `${d}d ${hr}h ${pad(m)}m`;
  if (hr) return `${hr}h ${pad(m)}m ${pad(sec)}s`;
  if (m) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

// localToUtc("2026-11-22T10:00") -> "2026-11-22T09:00:00.000Z" (in UTC+1); null when empty,
// undefined when unparsable (the form tells those apart).
export function localToUtc(value) {
  if (!value) return null;
  const d = new Date(value); // a date-time without offset is local time
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function toLocalInput(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

// Resolves after `ms`, or at once when `signal` aborts (a left page stops waiting).
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
