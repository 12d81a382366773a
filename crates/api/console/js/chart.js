// The price-over-time chart: a static SVG redrawn from the bids (no library, nothing
// inline that the CSP would block; all styling is in app.css via classes).

import { cmpDec, money } from './decimal.js';
import { append, s } from './dom.js';
import { fmtClock } from './time.js';

const W = 640, H = 260, L = 12, R = 12, T = 24, B = 44; // viewBox size and margins

// One point per bid, oldest to newest. Floats only place points; labels keep the exact
// decimal strings.
export function priceChart(bidsDesc, currency) {
  const pts = bidsDesc.slice().reverse()
    .map((b) => ({ b, t: Date.parse(b.created_at), v: Number.parseFloat(b.amount) }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', id: 'chart', 'data-test': 'chart', role: 'img',
    'data-points': pts.length,
  });
  if (!pts.length) {
    svg.setAttribute('aria-label', 'Price over time: no bids yet');
    svg.append(s('text', { x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'No bids yet'));
    return svg;
  }
  const sc = scales(pts);
  svg.setAttribute('aria-label', `Price over time: ${pts.length} bid${pts.length === 1 ? '' : 's'}, from ${sc.lo} to ${sc.hi}`);
  append(svg, [axes(pts, sc, currency), marks(pts, sc, currency)]);
  return svg;
}

// Maps time to x and amount to y. Equal amounts get a band around them, so a flat line
// sits in the middle rather than dividing by zero.
function scales(pts) {
  let lo = pts[0].b.amount, hi = pts[0].b.amount;
  for (const p of pts) {
    if (cmpDec(p.b.amount, lo) < 0) lo = p.b.amount;
    if (cmpDec(p.b.amount, hi) > 0) hi = p.b.amount;
  }
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  let v0 = Number.parseFloat(lo), v1 = Number.parseFloat(hi);
  if (v1 === v0) { v0 -= Math.abs(v0) * 0.1 || 1; v1 += Math.abs(v1) * 0.1 || 1; }
  const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
  const y = (v) => T + (1 - (v - v0) / (v1 - v0)) * (H - T - B);
  return { lo, hi, x, y };
}

function axes(pts, { lo, hi, y }, currency) {
  const yHi = y(Number.parseFloat(hi)), yLo = y(Number.parseFloat(lo));
  return [
    s('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }),
    s('line', { x1: L, x2: W - R, y1: yHi, y2: yHi, class: 'grid' }),
    s('line', { x1: L, x2: W - R, y1: yLo, y2: yLo, class: 'grid' }),
    s('text', { x: L, y: yHi - 7, class: 'label', 'data-test': 'chart-max' }, `max ${money(hi, currency)}`),
    s('text', { x: L, y: yLo + 15, class: 'label', 'data-test': 'chart-min' }, `min ${money(lo, currency)}`),
    s('text', { x: L, y: H - 8, class: 'label' }, fmtClock(pts[0].b.created_at)),
    s('text', { x: W - R, y: H - 8, class: 'label', 'text-anchor': 'end' }, fmtClock(pts[pts.length - 1].b.created_at)),
  ];
}

function marks(pts, { x, y }, currency) {
  return [
    s('polyline', {
      class: 'line', 'data-test': 'chart-line', fill: 'none',
      points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
    }),
    pts.map((p) => s('circle', {
      class: 'point', 'data-test': 'chart-point', 'data-id': p.b.id, 'data-amount': p.b.amount,
      cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 4,
    }, s('title', {}, `${money(p.b.amount, currency)} at ${fmtClock(p.b.created_at)} (bid #${p.b.id})`))),
  ];
}
