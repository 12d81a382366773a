//! What this instance knows of auctions in memory: recent reads (so a `GET` needs no
//! database round trip) and the least next amount of english auctions (so a hopeless bid
//! is refused without Redis or PostgreSQL).
//!
//! Freshness, as the contract promises it: this instance's own commits are applied here
//! before their `201` is sent, and a read is served from memory for at most [`FRESH_FOR`]
//! after it was fetched, so bids committed through other instances show within that bound
//! (their events usually arrive sooner and drop the entry at once). A floor only ever
//! rises to amounts seen committed, so a stale one lets more bids through to PostgreSQL,
//! never refuses a good one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use gavel_domain::bid::english_min_over;
use gavel_domain::{Auction, AuctionEvent, AuctionId, AuctionKind, HighestBid, Money, PlacedBid};

/// Longest a read is served from memory.
pub const FRESH_FOR: Duration = Duration::from_millis(100);
/// Entries kept before untouched ones are dropped.
const MAX_ENTRIES: usize = 20_000;
/// How long an entry may go untouched before it may be dropped.
const IDLE: Duration = Duration::from_secs(2);

/// A fetched auction and when.
struct Cached {
    auction: Auction,
    fetched: Instant,
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

/// A read in progress: where the entry stood when it began.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket(u64);

/// This instance's in-memory knowledge of auctions.
#[derive(Default)]
pub struct Board {
    entries: RwLock<HashMap<AuctionId, Entry>>,
    seq: AtomicU64,
}

impl Board {
    /// The auction as last read, when that was less than [`FRESH_FOR`] ago; its clock
    /// (`as_of`) moved on by the time since.
    pub fn get(&self, id: AuctionId) -> Option<Auction> {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let cached = map.get(&id)?.cached.as_ref()?;
        let age = cached.fetched.elapsed();
        if age >= FRESH_FOR {
            return None;
        }
        let mut a = cached.auction.clone();
        a.as_of += chrono::Duration::from_std(age).unwrap_or_default();
        Some(a)
    }

    /// Call before reading an auction from the database; pass the ticket to [`Board::put`].
    pub fn begin_read(&self, id: AuctionId) -> ReadTicket {
        let map = self.entries.read().unwrap_or_else(|e| e.into_inner());
        ReadTicket(map.get(&id).map_or(0, |e| e.seq))
    }

    /// Keeps a read, unless something changed the auction's entry since it began.
    pub fn put(&self, ticket: ReadTicket, auction: &Auction) {
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let current = map.get(&auction.id).map_or(0, |e| e.seq);
        if current != ticket.0 {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| now.duration_since(e.touched) < IDLE);
        }
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
            fetched: now,
        });
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
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(p.bid.auction_id).or_insert_with(|| Entry {
            seq,
            cached: None,
            floor: None,
            touched: Instant::now(),
        });
        entry.seq = seq;
        entry.touched = Instant::now();
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
