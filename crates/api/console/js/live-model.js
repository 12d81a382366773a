// The live view's data rules, kept free of the DOM. The page learns about one auction from
// two sources that race: reads (GET) and the event stream. These rules make the result
// independent of which arrives first.

import { FINAL } from './constants.js';
import { cmpDec } from './decimal.js';

const MAX_BIDS_KEPT = 2000; // bids held for the ladder and chart

// The auction to show after reading `next` while showing `cur`; null to ignore `next`.
export function mergeAuction(cur, next) {
  if (!next || typeof next !== 'object') return null;
  if (cur && FINAL.has(cur.status) && !FINAL.has(next.status)) return null; // never regress
  if (cur && !FINAL.has(next.status)) return keepNewer(cur, next);
  // a cancelled auction's read has no highest bid; the one we saw is still worth showing
  if (cur && !next.highest_bid && cur.highest_bid && next.status === 'cancelled') {
    return { ...next, highest_bid: cur.highest_bid };
  }
  return next;
}

// A read may lag the stream by a little: keep what the stream already told us.
function keepNewer(cur, next) {
  let out = next;
  if (Date.parse(cur.ends_at) > Date.parse(out.ends_at)) out = { ...out, ends_at: cur.ends_at };
  if (cur.bid_count > out.bid_count) out = { ...out, bid_count: cur.bid_count };
  if (cur.highest_bid && (!out.highest_bid || cmpDec(cur.highest_bid.amount, out.highest_bid.amount) > 0)) {
    out = { ...out, highest_bid: cur.highest_bid };
  }
  return out;
}

// The auction after a streamed bid `b`: one more bid, and for english a new highest.
export function withBid(a, b) {
  const higher = a.kind === 'english' && (!a.highest_bid || cmpDec(b.amount, a.highest_bid.amount) > 0);
  return {
    ...a,
    bid_count: a.bid_count + 1,
    highest_bid: higher ? { bid_id: b.id, bidder_id: b.bidder_id, amount: b.amount } : a.highest_bid,
  };
}

// Adds a bid unless already known (stream and reads overlap); true when it was new.
// Past the cap the oldest go, with some slack so the trim is not paid on every bid.
export function addBid(bids, b) {
  if (b == null || b.id == null || bids.has(b.id)) return false;
  bids.set(b.id, b);
  if (bids.size > MAX_BIDS_KEPT * 1.1) {
    for (const old of sortedBids(bids).slice(MAX_BIDS_KEPT)) bids.delete(old.id);
  }
  return true;
}

// Newest first: bid ids grow with time.
export function sortedBids(bids) {
  return [...bids.values()].sort((x, y) => y.id - x.id);
}

// The bid to badge: the result's winner once settled; while an english auction runs, the
// highest (or, while no highest is known yet, the newest: english bids must rise).
export function winningBidId(a, bidsDesc) {
  return a?.result?.winning_bid_id ??
    (a?.kind === 'english' && !FINAL.has(a?.status) ? a?.highest_bid?.bid_id ?? bidsDesc[0]?.id : null);
}
