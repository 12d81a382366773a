//! Bids: the amount a bidder may offer, the decision, and what an accepted bid did.

mod decide;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auction::AuctionKind;
use crate::ids::{AuctionId, BidId, BidderId};
use crate::money::Money;

pub use decide::{
    codes, decide_bid, english_min_over, min_acceptable, offerable_min, AcceptedBid, BidContext,
    BidRejection,
};

/// An amount a bid may offer: money above zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BidAmount(Money);

/// Why an amount cannot be bid.
pub const ZERO_BID: &str = "must be greater than 0";

impl BidAmount {
    /// The amount, unless it is zero.
    pub fn new(m: Money) -> Option<Self> {
        (!m.is_zero()).then_some(Self(m))
    }

    /// The money offered.
    pub fn money(self) -> Money {
        self.0
    }
}

impl fmt::Display for BidAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for BidAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = Money::deserialize(d)?;
        BidAmount::new(m).ok_or_else(|| serde::de::Error::custom(ZERO_BID))
    }
}

/// A bid as asked for: who offers how much on which auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidRequest {
    /// The auction.
    pub auction_id: AuctionId,
    /// The bidder (the one the API key belongs to).
    pub bidder_id: BidderId,
    /// The amount offered.
    pub amount: BidAmount,
}

impl BidRequest {
    /// The request as understood, so `"5"`, `5` and `"5.00"` are the same bid.
    pub fn fingerprint(&self) -> String {
        format!("{}|{}|{}", self.auction_id, self.amount, self.bidder_id)
    }
}

/// A stored bid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    /// Id; ids of one auction's accepted english bids rise with their amounts.
    pub id: BidId,
    /// The auction bid on.
    pub auction_id: AuctionId,
    /// Who bid.
    pub bidder_id: BidderId,
    /// The amount bid.
    pub amount: Money,
    /// When it was accepted (database clock).
    pub created_at: DateTime<Utc>,
}

/// An accepted bid and what it did to its auction.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBid {
    /// The bid as stored.
    pub bid: Bid,
    /// Its auction's kind.
    pub kind: AuctionKind,
    /// Its auction's step between english bids (what the next bid must add).
    pub min_increment: Money,
    /// The decision that accepted it.
    pub accepted: AcceptedBid,
    /// The auction's end after this bid.
    pub ends_at: DateTime<Utc>,
    /// The auction's bid count after this bid.
    pub bid_count: i64,
}

/// How a bid was decided, in the form kept for replaying it to a repeated request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidOutcome {
    /// Accepted: the bid, and its auction's kind (which decides `is_winning`).
    Accepted {
        /// The bid.
        bid: Bid,
        /// Its auction's kind.
        kind: AuctionKind,
    },
    /// Turned away, and why.
    Refused(BidRejection),
}

impl BidOutcome {
    /// The outcome of a decision.
    pub fn of(decision: &Result<PlacedBid, BidRejection>) -> Self {
        match decision {
            Ok(p) => BidOutcome::Accepted {
                bid: p.bid.clone(),
                kind: p.kind,
            },
            Err(r) => BidOutcome::Refused(r.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_not_a_bid() {
        assert!(BidAmount::new(Money::ZERO).is_none());
        let e = serde_json::from_str::<BidAmount>("\"0.00\"").unwrap_err();
        assert!(e.to_string().contains(ZERO_BID), "{e}");
        let a: BidAmount = serde_json::from_str("\"0.0001\"").unwrap();
        assert_eq!(a.to_string(), "0.0001");
    }

    #[test]
    fn outcomes_keep_their_stored_form() {
        let refused = BidOutcome::Refused(BidRejection::TooLow {
            min_amount: "2.05".parse().unwrap(),
        });
        let text = serde_json::to_string(&refused).unwrap();
        assert_eq!(text, r#"{"refused":{"too_low":{"min_amount":"2.05"}}}"#);
        assert_eq!(serde_json::from_str::<BidOutcome>(&text).unwrap(), refused);
        let not_open = BidOutcome::Refused(BidRejection::NotOpen(
            crate::auction::AuctionStatus::Closing,
        ));
        assert_eq!(
            serde_json::to_string(&not_open).unwrap(),
            r#"{"refused":{"not_open":"closing"}}"#
        );
    }
}
