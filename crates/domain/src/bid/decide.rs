//! The rule that decides one bid against an auction's current state.
//!
//! Storage calls this while it holds the auction's row lock, so the state it
//! passes in is the latest committed one and the decision cannot race.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::BidAmount;
use crate::auction::{AuctionKind, AuctionState, AuctionStatus};
use crate::money::Money;

/// Everything a bid decision depends on.
#[derive(Debug, Clone)]
pub struct BidContext<'a> {
    /// The auction as currently committed.
    pub auction: &'a AuctionState,
    /// The database clock when the auction row was locked.
    pub now: DateTime<Utc>,
    /// Whether this bidder already has a bid on the auction (sealed kinds allow one).
    pub bidder_already_bid: bool,
}

/// What an accepted bid changes on its auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedBid {
    /// The bid is now the auction's highest.
    pub becomes_highest: bool,
    /// New `ends_at` when the bid landed inside the anti-sniping window.
    pub new_ends_at: Option<DateTime<Utc>>,
    /// Least amount the next english bid needs once this one is the highest; `None` for
    /// sealed kinds (whose bids are not compared with each other) or past what money holds.
    pub next_min: Option<Money>,
}

/// Why a well-formed bid is turned away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidRejection {
    /// There is no such auction.
    UnknownAuction,
    /// The auction is not taking bids.
    NotOpen(AuctionStatus),
    /// The amount is below the least acceptable one.
    TooLow {
        /// Least amount that would have been accepted.
        min_amount: Decimal,
    },
    /// Sealed kinds take one bid per bidder.
    AlreadyBid,
}

/// The stable codes of the refusals, as clients and the metrics see them (the API's
/// problem `code`, the `outcome` label of `gavel_bids_total`): spelled here only.
pub mod codes {
    /// No such auction.
    pub const AUCTION_NOT_FOUND: &str = "auction_not_found";
    /// The auction is not open.
    pub const AUCTION_NOT_OPEN: &str = "auction_not_open";
    /// Below the least acceptable amount.
    pub const BID_TOO_LOW: &str = "bid_too_low";
    /// A second sealed bid.
    pub const ALREADY_BID: &str = "already_bid";
}

impl BidRejection {
    /// Its stable code (see [`codes`]).
    pub fn code(&self) -> &'static str {
        match self {
            BidRejection::UnknownAuction => codes::AUCTION_NOT_FOUND,
            BidRejection::NotOpen(_) => codes::AUCTION_NOT_OPEN,
            BidRejection::TooLow { .. } => codes::BID_TOO_LOW,
            BidRejection::AlreadyBid => codes::ALREADY_BID,
        }
    }
}

/// Least amount the next bid must reach (english), or the reserve (sealed kinds).
pub fn min_acceptable(auction: &AuctionState) -> Decimal {
    match (auction.kind, auction.highest) {
        (AuctionKind::English, Some(h)) => english_min_over(h, auction.min_increment),
        _ => auction.reserve_price.as_decimal(),
    }
}

/// Least amount an english bid needs once `highest` leads: the increment rule, written
/// once (it may exceed what money holds, hence a plain decimal).
pub fn english_min_over(highest: Money, min_increment: Money) -> Decimal {
    highest.plus(min_increment)
}

/// The least amount to offer a refused bidder: `None` when the true one is past what money
/// holds (the highest english bid is within one increment of the largest amount), so no
/// amount the API accepts can win and none is offered.
pub fn offerable_min(min_amount: Decimal) -> Option<Money> {
    Money::from_decimal(min_amount).ok()
}

/// Decides a bid of `amount`.
pub fn decide_bid(ctx: &BidContext<'_>, amount: BidAmount) -> Result<AcceptedBid, BidRejection> {
    let amount = amount.money();
    let a = ctx.auction;
    let status = a.status(ctx.now);
    if status != AuctionStatus::Open {
        return Err(BidRejection::NotOpen(status));
    }
    if a.kind.is_sealed() && ctx.bidder_already_bid {
        return Err(BidRejection::AlreadyBid);
    }
    let min_amount = min_acceptable(a);
    if amount.as_decimal() < min_amount {
        return Err(BidRejection::TooLow { min_amount });
    }
    // Sealed ties keep the earlier bid as highest, as settlement does.
    let becomes_highest = match a.highest {
        None => true,
        Some(h) => amount > h,
    };
    let new_ends_at = match a.kind {
        AuctionKind::English if a.extend_secs > 0 => {
            let window = Duration::seconds(a.extend_secs.into());
            (a.ends_at - ctx.now < window).then(|| ctx.now + window)
        }
        _ => None,
    };
    let next_min = match a.kind {
        AuctionKind::English => Money::from_decimal(english_min_over(amount, a.min_increment)).ok(),
        _ => None,
    };
    Ok(AcceptedBid {
        becomes_highest,
        new_ends_at,
        next_min,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn english() -> AuctionState {
        AuctionState {
            kind: AuctionKind::English,
            reserve_price: m("1.00"),
            min_increment: m("0.05"),
            extend_secs: 0,
            starts_at: t("2026-11-22T10:00:00Z"),
            ends_at: t("2026-11-22T10:05:00Z"),
            cancelled: false,
            closed: false,
            highest: None,
        }
    }

    fn decide(a: &AuctionState, now: &str, amount: &str) -> Result<AcceptedBid, BidRejection> {
        decide_bid(
            &BidContext {
                auction: a,
                now: t(now),
                bidder_already_bid: false,
            },
            BidAmount::new(m(amount)).unwrap(),
        )
    }

    #[test]
    fn no_minimum_is_offered_past_the_largest_amount() {
        let mut a = english();
        a.highest = Some(m("99999999999999.9999"));
        let Err(BidRejection::TooLow { min_amount }) =
            decide(&a, "2026-11-22T10:01:00Z", "99999999999999.9999")
        else {
            panic!("a bid equal to the highest must be too low");
        };
        assert_eq!(offerable_min(min_amount), None);
        a.highest = Some(m("99999999999999.9000"));
        let Err(BidRejection::TooLow { min_amount }) =
            decide(&a, "2026-11-22T10:01:00Z", "99999999999999.9000")
        else {
            panic!("a bid equal to the highest must be too low");
        };
        assert_eq!(offerable_min(min_amount), Some(m("99999999999999.95")));
    }

    #[test]
    fn first_english_bid_must_meet_the_reserve() {
        let a = english();
        assert_eq!(
            decide(&a, "2026-11-22T10:01:00Z", "0.9999"),
            Err(BidRejection::TooLow {
                min_amount: m("1.00").as_decimal()
            })
        );
        assert!(
            decide(&a, "2026-11-22T10:01:00Z", "1.00")
                .unwrap()
                .becomes_highest
        );
    }

    #[test]
    fn later_english_bids_must_beat_highest_by_the_increment() {
        let a = AuctionState {
            highest: Some(m("2.00")),
            ..english()
        };
        let r = decide(&a, "2026-11-22T10:01:00Z", "2.0499");
        assert_eq!(
            r,
            Err(BidRejection::TooLow {
                min_amount: m("2.05").as_decimal()
            })
        );
        let ok = decide(&a, "2026-11-22T10:01:00Z", "2.05").unwrap();
        assert_eq!(
            ok.next_min,
            Some(m("2.10")),
            "the next minimum comes with the decision"
        );
    }

    #[test]
    fn bids_outside_the_open_window_are_refused() {
        let a = english();
        assert_eq!(
            decide(&a, "2026-11-22T09:00:00Z", "5"),
            Err(BidRejection::NotOpen(AuctionStatus::Scheduled))
        );
        assert_eq!(
            decide(&a, "2026-11-22T10:05:00Z", "5"),
            Err(BidRejection::NotOpen(AuctionStatus::Closing))
        );
        let c = AuctionState {
            cancelled: true,
            ..english()
        };
        assert_eq!(
            decide(&c, "2026-11-22T10:01:00Z", "5"),
            Err(BidRejection::NotOpen(AuctionStatus::Cancelled))
        );
    }

    #[test]
    fn late_bids_extend_the_auction() {
        let a = AuctionState {
            extend_secs: 30,
            ..english()
        };
        let early = decide(&a, "2026-11-22T10:04:00Z", "2").unwrap();
        assert_eq!(early.new_ends_at, None);
        let late = decide(&a, "2026-11-22T10:04:45Z", "2").unwrap();
        assert_eq!(late.new_ends_at, Some(t("2026-11-22T10:05:15Z")));
    }

    #[test]
    fn sealed_bids_one_per_bidder_at_least_reserve() {
        let a = AuctionState {
            kind: AuctionKind::SecondPrice,
            highest: Some(m("9")),
            ..english()
        };
        // below the highest is fine for sealed kinds, but not below reserve
        let r = decide(&a, "2026-11-22T10:01:00Z", "3").unwrap();
        assert!(!r.becomes_highest);
        assert!(matches!(
            decide(&a, "2026-11-22T10:01:00Z", "0.5"),
            Err(BidRejection::TooLow { .. })
        ));
        let again = decide_bid(
            &BidContext {
                auction: &a,
                now: t("2026-11-22T10:01:00Z"),
                bidder_already_bid: true,
            },
            BidAmount::new(m("50")).unwrap(),
        );
        assert_eq!(again, Err(BidRejection::AlreadyBid));
        // a tie does not displace the earlier highest
        assert!(
            !decide(&a, "2026-11-22T10:01:00Z", "9")
                .unwrap()
                .becomes_highest
        );
    }
}
