//! What this instance knows of auctions in memory: recent reads (so a `GET` needs no
//! database round trip) and the least next amount of english auctions (so a hopeless bid
//! is refused without Redis or PostgreSQL).
//!
//! Freshness, as the contract promises it: this instance's own commits are applied here
//! before their `201` is sent, and a read is served from memory for at most [`FRESH_FOR`]
//! after it was fetched, so bids committed through other instances show within that bound
//! (their events usually arrive sooner and drop the entry at once). A read served again
//! from memory queues its auction for a refresh once the copy is [`REFRESH_AFTER`] old:
//! the refresher fetches every queued auction in one statement, so a busy auction's reads
//! keep finding a fresh copy instead of each going to the database when it expires. A
//! floor only ever
//! rises to amounts seen committed, so a stale one lets more bids through to PostgreSQL,
//! never refuses a good one.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use gavel_domain::bid::english_min_over;
use gavel_domain::{Auction, AuctionEvent, AuctionId, AuctionKind, HighestBid, Money, PlacedBid};
use rustc_hash::FxHashMap;

/// Longest a read is served from memory.
pub const FRESH_FOR: Duration = Duration::from_millis(100);
/// Age at which a copy read again is fetched anew in the background: half of
/// [`FRESH_FOR`], so the refresh lands before the copy expires.
pub const REFRESH_AFTER: Duration = Duration::from_millis(50);
/// Entries kept before untouched ones are dropped (every insert of a new auction checks,
/// so a board that only ever sees bids, or reads, stays within it).
const MAX_ENTRIES: usize = 20_000;
/// How long an entry may go untouched before it may be dropped.
const IDLE: Duration = Duration::from_secs(2);

/// A fetched auction and when.
struct Cached {
    auction: Auction,
    /// When its read began (the snapshot is no older): its freshness counts from here.
    fetched: Instant,
    /// When it was kept: its clock (`as_of`) moves on from here.
    kept: Instant,
    /// Served from memory since, and so queued for a refresh.
    reread: AtomicBool,
}

/// The least next amount of an english auction, as far as this instance has seen.
#[derive(Debug, Clone, Copy)]
struct Floor {
    highest: Money,
    increment: Money,
    next_min: Money,
    ends_at: chrono::DateTime<chrono::Utc>,
}

/// What is known of one auction.
struct Entry {
    /// Changes whenever something here changes, so a read that raced a change is not kept.
    seq: u64,
    cached: Option<Cached>,
    floor: Option<Floor>,
    touched: Instant,
}

/// Names one copy of an auction kept in memory: it changes whenever the copy does (a bid
/// applied, a fresh read kept) and is never reused, so whatever was derived from a copy
/// (its JSON, say) stays right for as long as the copy's id is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyId(u64);

/// An auction served from memory, and which copy it came from.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The auction, its clock (`as_of`) moved on to now.
    pub auction: Auction,
    /// The copy it is.
    pub copy: CopyId,
}

/// A read in progress: where the entry stood when it began, and when that was.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket {
    seq: u64,
    began: Instant,
}

/// This instance's in-memory knowledge of auctions.
#[derive(Default)]
pub struct Board {
    /// By auction id. Hashed with Fx, not SipHash: only auctions PostgreSQL returned get
    /// an entry, so no client picks the keys.
    entries: RwLock<FxHashMap<AuctionId, Entry>>,
    /// How many entries the next sweep of untouched ones waits for (at least
    /// [`MAX_ENTRIES`]); written under `entries`' write lock.
    sweep_at: AtomicUsize,
    seq: AtomicU64,
    /// Auctions whose copy was read again since it was fetched, for the refresher.
    rereads: Mutex<Vec<AuctionId>>,
    /// Wakes the refresher when `rereads` gains an auction.
    reread_queued: tokio::sync::Notify,
}

impl Board {
    /// The auction as last read, when that was less than [`FRESH_FOR`] ago; its clock
    /// (`as_of`) moved on by the time since.
    pub fn get(&self, id: AuctionId) -> Option<Kept> {
        let (mut a, copy, age, first_reread) = {
            let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
            let entry = map.get(&id)?;
            let cached = entry.cached.as_ref()?;
            let now = Instant::now();
            if now.saturating_duration_since(cached.fetched) >= FRESH_FOR {
                return None;
            }
            let first_reread = !cached.reread.swap(true, Ordering::Relaxed);
            let age = now.saturating_duration_since(cached.kept);
            (cached.auction.clone(), CopyId(entry.seq), age, first_reread)
        };
        if first_reread {
            self.rereads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(id);
            self.reread_queued.notify_one();
        }
        a.as_of += chrono::Duration::from_std(age).unwrap_or_default();
        Some(Kept { auction: a, copy })
    }

    /// Call before reading an auction from the database; pass the ticket to [`Board::put`].
    pub fn begin_read(&self, id: AuctionId) -> ReadTicket {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        ReadTicket {
            seq: map.get(&id).map_or(0, |e| e.seq),
            began: Instant::now(),
        }
    }

    /// Resolves once an auction is queued for a refresh (at once if one was queued since
    /// the last call).
    pub async fn rereads_queued(&self) {
        self.reread_queued.notified().await;
    }

    /// The queued auctions now due for a refresh, each with its ticket for [`Board::put`],
    /// and how long until the next of the rest is due (`None`: the queue is empty).
    pub fn take_due(&self) -> (Vec<(AuctionId, ReadTicket)>, Option<Duration>) {
        let queued = std::mem::take(&mut *self.rereads.lock().unwrap_or_else(|e| e.into_inner()));
        let (mut due, mut waiting, mut next) = (Vec::new(), Vec::new(), None::<Duration>);
        {
            let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
            let began = Instant::now();
            for id in queued {
                // Gone or dropped meanwhile: the next read fetches it.
                let Some((seq, cached)) = map
                    .get(&id)
                    .and_then(|e| e.cached.as_ref().map(|c| (e.seq, c)))
                else {
                    continue;
                };
                let age = began.saturating_duration_since(cached.fetched);
                if age >= REFRESH_AFTER {
                    // Read again after this, it is queued again (also when this
                    // refresh is not kept because the auction changed meanwhile).
                    cached.reread.store(false, Ordering::Relaxed);
                    due.push((id, ReadTicket { seq, began }));
                } else {
                    let wait = REFRESH_AFTER - age;
                    next = Some(next.map_or(wait, |n| n.min(wait)));
                    waiting.push(id);
                }
            }
        }
        if !waiting.is_empty() {
            self.rereads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(waiting);
        }
        (due, next)
    }

    /// Keeps a read, unless something changed the auction's entry since it began (then
    /// `None`). Its age counts from when the read began.
    pub fn put(&self, ticket: ReadTicket, auction: &Auction) -> Option<CopyId> {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let current = map.get(&auction.id).map_or(0, |e| e.seq);
        if current != ticket.seq {
            return None;
        }
        self.make_room(&mut map, auction.id, now);
        let seq = self.next_seq();
        let entry = map.entry(auction.id).or_insert_with(|| Entry {
            seq,
            cached: None,
            floor: None,
            touched: now,
        });
        entry.seq = seq;
        entry.touched = now;
        entry.cached = Some(Cached {
            auction: auction.clone(),
            fetched: ticket.began,
            kept: now,
            reread: AtomicBool::new(false),
        });
        Some(CopyId(seq))
    }

    /// The least amount a bid on `id` needs, when this instance knows one and the auction
    /// is not past its end at `now`; `None` means "cannot tell".
    pub fn floor(&self, id: AuctionId, now: chrono::DateTime<chrono::Utc>) -> Option<Money> {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let f = map.get(&id)?.floor?;
        (now < f.ends_at).then_some(f.next_min)
    }

    /// Applies a bid this instance committed (before its `201` is sent).
    pub fn apply_placed(&self, p: &PlacedBid) {
        let seq = self.next_seq();
        let now = Instant::now();
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.make_room(&mut map, p.bid.auction_id, now);
        let entry = map.entry(p.bid.auction_id).or_insert_with(|| Entry {
            seq,
            cached: None,
            floor: None,
            touched: now,
        });
        entry.seq = seq;
        entry.touched = now;
        let amount = p.bid.amount;
        if let Some(c) = &mut entry.cached {
            let a = &mut c.auction;
            a.bid_count = a.bid_count.max(p.bid_count);
            a.ends_at = a.ends_at.max(p.ends_at);
            let higher = a.highest.is_none_or(|h| amount > h.amount);
            if p.accepted.becomes_highest && higher {
                a.highest = Some(HighestBid {
                    bid_id: p.bid.id,
                    bidder_id: p.bid.bidder_id,
                    amount,
                });
            }
        }
        if let (AuctionKind::English, Some(next_min)) = (p.kind, p.accepted.next_min) {
            let floor = Floor {
                highest: amount,
                increment: p.min_increment,
                next_min,
                ends_at: p.ends_at,
            };
            raise(&mut entry.floor, floor);
        }
    }

    /// Applies an event from another instance: the cached read is dropped (the next read
    /// fetches it again) and the floor raised to the bid's amount.
    pub fn apply_remote(&self, event: &AuctionEvent) {
        let seq = self.next_seq();
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = map.get_mut(&event.auction_id()) else {
            return;
        };
        entry.seq = seq;
        entry.cached = None;
        match event {
            AuctionEvent::Bid { bid: Some(bid), .. } => {
                if let Some(f) = entry.floor {
                    let next_min = english_min_over(bid.amount, f.increment);
                    if let Ok(next_min) = Money::from_decimal(next_min) {
                        let raised = Floor {
                            highest: bid.amount,
                            next_min,
                            ..f
                        };
                        raise(&mut entry.floor, raised);
                    }
                }
            }
            AuctionEvent::Extended { ends_at, .. } => {
                if let Some(f) = &mut entry.floor {
                    f.ends_at = f.ends_at.max(*ends_at);
                }
            }
            AuctionEvent::Closed { .. } | AuctionEvent::Cancelled { .. } => entry.floor = None,
            AuctionEvent::Bid { bid: None, .. } => {}
        }
    }

    /// Forgets an auction (cancelled or settled here).
    pub fn forget(&self, id: AuctionId) {
        let seq = self.next_seq();
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(&id) {
            entry.seq = seq;
            entry.cached = None;
            entry.floor = None;
        }
    }

    /// Before `id` is added: once the board holds `sweep_at` entries, drops those untouched
    /// for [`IDLE`] (a settled auction's entry stays after [`Board::forget`], so that a
    /// read begun before it is not kept; untouched, it goes here). The next sweep waits
    /// for twice what stayed, so a board busier than [`MAX_ENTRIES`] sweeps in amortised
    /// constant time. (Only reads that missed used to sweep: under bids alone, `rtb`'s
    /// entries grew by a thousand a second, gavel's RSS from 17 to 156 MiB in 120 s.)
    fn make_room(&self, map: &mut FxHashMap<AuctionId, Entry>, id: AuctionId, now: Instant) {
        if map.len() < self.sweep_at.load(Ordering::Relaxed).max(MAX_ENTRIES)
            || map.contains_key(&id)
        {
            return;
        }
        map.retain(|_, e| now.duration_since(e.touched) < IDLE);
        self.sweep_at
            .store((map.len() * 2).max(MAX_ENTRIES), Ordering::Relaxed);
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Keeps the higher of two floors (a floor never goes down), and the later end.
fn raise(slot: &mut Option<Floor>, new: Floor) {
    match slot {
        Some(f) if f.highest >= new.highest => f.ends_at = f.ends_at.max(new.ends_at),
        _ => *slot = Some(new),
    }
}

#[cfg(test)]
mod tests;
