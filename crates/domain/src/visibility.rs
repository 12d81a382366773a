//! Who may see what: sealed bids stay hidden from bidders until their auction closes.

use crate::auction::{Auction, AuctionKind, AuctionStatus};
use crate::ids::{BidId, BidderId};

/// Who is looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The admin sees everything.
    Admin,
    /// A bidder sees what bidders may, and its own sealed bids.
    Bidder(BidderId),
    /// Anyone with a key (event streams): what every bidder may see.
    Public,
}

/// Whether `viewer` may see the highest bid of an auction of `kind` in `status`.
pub fn sees_highest(viewer: Viewer, kind: AuctionKind, status: AuctionStatus) -> bool {
    !kind.is_sealed() || viewer == Viewer::Admin || status == AuctionStatus::Closed
}

/// Whose bids of an auction `viewer` may list: `None` for all, or one bidder's own.
pub fn bids_visible_to(
    viewer: Viewer,
    kind: AuctionKind,
    status: AuctionStatus,
) -> Option<BidderId> {
    match viewer {
        Viewer::Bidder(id) if kind.is_sealed() && status != AuctionStatus::Closed => Some(id),
        _ => None,
    }
}

/// Whether a bid event may show the bid itself (sealed kinds tell only that a bid came).
pub fn bid_events_show_bids(kind: AuctionKind) -> bool {
    !kind.is_sealed()
}

/// `is_winning` of a just-accepted bid: english bids become the highest; sealed ones are
/// undecided until the auction closes.
pub fn is_winning_when_placed(kind: AuctionKind) -> Option<bool> {
    (!kind.is_sealed()).then_some(true)
}

/// `is_winning` of bid `bid_id` of `auction` now: the winning bid once settled; for open
/// english auctions the highest; sealed bids are undecided until settled.
pub fn is_winning(bid_id: BidId, auction: &Auction) -> Option<bool> {
    if let Some(result) = &auction.result {
        Some(result.winner.is_some_and(|w| w.bid_id == bid_id))
    } else if auction.kind.is_sealed() {
        None
    } else {
        Some(auction.highest.is_some_and(|h| h.bid_id == bid_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bids_stay_hidden_from_bidders_until_closed() {
        let bidder = Viewer::Bidder(BidderId::new(3).unwrap());
        let sealed = AuctionKind::FirstPrice;
        assert!(!sees_highest(bidder, sealed, AuctionStatus::Open));
        assert!(!sees_highest(
            Viewer::Public,
            sealed,
            AuctionStatus::Closing
        ));
        assert!(sees_highest(Viewer::Admin, sealed, AuctionStatus::Open));
        assert!(sees_highest(bidder, sealed, AuctionStatus::Closed));
        assert!(sees_highest(
            bidder,
            AuctionKind::English,
            AuctionStatus::Open
        ));
        assert_eq!(
            bids_visible_to(bidder, sealed, AuctionStatus::Open),
            BidderId::new(3)
        );
        assert_eq!(bids_visible_to(bidder, sealed, AuctionStatus::Closed), None);
        assert_eq!(
            bids_visible_to(Viewer::Admin, sealed, AuctionStatus::Open),
            None
        );
        assert!(!bid_events_show_bids(sealed));
        assert_eq!(is_winning_when_placed(sealed), None);
        assert_eq!(is_winning_when_placed(AuctionKind::English), Some(true));
    }
}
