//! What happens to an auction, as told to its event streams.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auction::{Auction, AuctionStatus};
use crate::bid::{Bid, PlacedBid};
use crate::ids::AuctionId;
use crate::visibility::bid_events_show_bids;

/// One event of one auction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuctionEvent {
    /// A bid was accepted.
    Bid {
        /// The auction.
        auction_id: AuctionId,
        /// The bid, on kinds whose bids are public; `None` on sealed kinds.
        bid: Option<Bid>,
        /// The auction's bid count after it.
        bid_count: i64,
    },
    /// A late bid moved the end.
    Extended {
        /// The auction.
        auction_id: AuctionId,
        /// The new end.
        ends_at: DateTime<Utc>,
        /// The auction's bid count after the bid that moved it.
        bid_count: i64,
    },
    /// The auction was settled.
    Closed {
        /// The auction as closed.
        auction: Box<Auction>,
    },
    /// An admin cancelled the auction.
    Cancelled {
        /// The auction as cancelled.
        auction: Box<Auction>,
    },
}

impl AuctionEvent {
    /// The events an accepted bid causes: the bid, and an extension when it moved the end.
    pub fn for_placed(p: &PlacedBid) -> Vec<AuctionEvent> {
        let auction_id = p.bid.auction_id;
        let mut events = vec![AuctionEvent::Bid {
            auction_id,
            bid: bid_events_show_bids(p.kind).then(|| p.bid.clone()),
            bid_count: p.bid_count,
        }];
        if let Some(ends_at) = p.accepted.new_ends_at {
            events.push(AuctionEvent::Extended {
                auction_id,
                ends_at,
                bid_count: p.bid_count,
            });
        }
        events
    }

    /// The auction it is about.
    pub fn auction_id(&self) -> AuctionId {
        match self {
            AuctionEvent::Bid { auction_id, .. } | AuctionEvent::Extended { auction_id, .. } => {
                *auction_id
            }
            AuctionEvent::Closed { auction } | AuctionEvent::Cancelled { auction } => auction.id,
        }
    }

    /// The event's place in its auction's story, the same on every instance: bids are
    /// counted under the auction's lock, so the n-th bid is `2n`, the extension it caused
    /// `2n + 1`, and the end (closed or cancelled) after the last of `n` bids `2n + 2`.
    /// Streams send it as the event `id`, and a reconnecting client's `Last-Event-ID`
    /// says where to resume.
    pub fn sequence(&self) -> u64 {
        let step = |bid_count: i64| u64::try_from(bid_count).unwrap_or(0).saturating_mul(2);
        match self {
            AuctionEvent::Bid { bid_count, .. } => step(*bid_count),
            AuctionEvent::Extended { bid_count, .. } => step(*bid_count).saturating_add(1),
            AuctionEvent::Closed { auction } | AuctionEvent::Cancelled { auction } => {
                Self::end_sequence(auction)
            }
        }
    }

    /// The event that ended `auction`, when it is closed or cancelled.
    pub fn ending(auction: &Auction) -> Option<AuctionEvent> {
        let boxed = || Box::new(auction.clone());
        match auction.status() {
            AuctionStatus::Closed => Some(AuctionEvent::Closed { auction: boxed() }),
            AuctionStatus::Cancelled => Some(AuctionEvent::Cancelled { auction: boxed() }),
            _ => None,
        }
    }

    /// Whether no event follows this one.
    pub fn is_last(&self) -> bool {
        matches!(
            self,
            AuctionEvent::Closed { .. } | AuctionEvent::Cancelled { .. }
        )
    }

    /// The sequence an auction's closing or cancelling event has (see [`Self::sequence`]).
    pub fn end_sequence(auction: &Auction) -> u64 {
        u64::try_from(auction.bid_count)
            .unwrap_or(0)
            .saturating_mul(2)
            .saturating_add(2)
    }

    /// The last sequence an auction as read already reflects: its bids and any extension
    /// they caused; events after it are news to a reader of that state.
    pub fn seen_sequence(auction: &Auction) -> u64 {
        u64::try_from(auction.bid_count)
            .unwrap_or(0)
            .saturating_mul(2)
            .saturating_add(1)
    }

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            AuctionEvent::Bid { .. } => "bid",
            AuctionEvent::Extended { .. } => "extended",
            AuctionEvent::Closed { .. } => "closed",
            AuctionEvent::Cancelled { .. } => "cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::AuctionKind;
    use crate::money::Money;

    fn auction(bid_count: i64) -> Auction {
        let t: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
        Auction {
            id: AuctionId::new(7).unwrap(),
            title: "t".into(),
            kind: AuctionKind::English,
            currency: "USD".into(),
            reserve_price: Money::ZERO,
            min_increment: Money::ZERO,
            extend_secs: 0,
            starts_at: t,
            ends_at: t,
            cancelled_at: None,
            highest: None,
            bid_count,
            result: None,
            created_at: t,
            as_of: t,
        }
    }

    #[test]
    fn sequences_follow_the_auctions_story() {
        let a = auction(2);
        let story = [
            AuctionEvent::Bid {
                auction_id: a.id,
                bid: None,
                bid_count: 1,
            },
            AuctionEvent::Bid {
                auction_id: a.id,
                bid: None,
                bid_count: 2,
            },
            AuctionEvent::Extended {
                auction_id: a.id,
                ends_at: a.ends_at,
                bid_count: 2,
            },
            AuctionEvent::Closed {
                auction: Box::new(a.clone()),
            },
        ];
        let seqs: Vec<u64> = story.iter().map(AuctionEvent::sequence).collect();
        assert_eq!(seqs, [2, 4, 5, 6]);
        // A reader of the auction as stored has seen every bid and extension, not the end.
        assert_eq!(AuctionEvent::seen_sequence(&a), 5);
        assert_eq!(AuctionEvent::end_sequence(&a), 6);
        let none = auction(0);
        assert_eq!(
            AuctionEvent::Cancelled {
                auction: Box::new(none.clone())
            }
            .sequence(),
            2
        );
        assert!(AuctionEvent::seen_sequence(&none) < AuctionEvent::end_sequence(&none));
    }
}
