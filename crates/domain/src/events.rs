//! What happens to an auction, as told to its event streams.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auction::Auction;
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
