// Amounts stay the API's decimal strings: compared exactly here, never through floats,
// so 0.1 + 0.2 style rounding can never reorder two bids.

export function cmpDec(a, b) {
  const [ai, af = ''] = String(a).replace(/^\+/, '').split('.');
  const [bi, bf = ''] = String(b).replace(/^\+/, '').split('.');
  const ia = ai.replace(/^0+(?=\d)/, '');
  const ib = bi.replace(/^0+(?=\d)/, '');
  if (ia.length !== ib.length) return ia.length < ib.length ? -1 : 1;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const fa = af.padEnd(n, '0');
  const fb = bf.padEnd(n, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

export const money = (amount, currency) => (currency ? `${amount} ${currency}` : String(amount));
