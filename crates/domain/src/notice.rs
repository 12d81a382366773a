//! Notices: what a winner and each loser is told, where a delivery stands, and the retry
//! rules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use rust_decimal::Decimal;

use crate::auction::AuctionKind;
use crate::ids::{AuctionId, BidId, BidderId};
use crate::money::Money;
use crate::settlement::Settlement;

/// Where an auction's win notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// No notice is owed (no winner, or a winner without a webhook).
    None,
    /// Owed and not yet delivered.
    Pending,
    /// Delivered (a 2xx answer).
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

impl NoticeState {
    /// The name used in JSON and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeState::None => "none",
            NoticeState::Pending => "pending",
            NoticeState::Delivered => "delivered",
            NoticeState::Failed => "failed",
        }
    }

    /// Parses the database name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(NoticeState::None),
            "pending" => Some(NoticeState::Pending),
            "delivered" => Some(NoticeState::Delivered),
            "failed" => Some(NoticeState::Failed),
            _ => None,
        }
    }
}

/// What a winner is told: the facts of its win, the same at every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WinNotice {
    /// The id receivers dedupe on.
    pub notice_id: String,
    /// The auction won.
    pub auction_id: AuctionId,
    /// The winning bid.
    pub bid_id: BidId,
    /// The winner.
    pub bidder_id: BidderId,
    /// What the winner pays.
    pub clearing_price: Money,
    /// The auction's currency.
    pub currency: String,
    /// When the auction was settled.
    pub closed_at: DateTime<Utc>,
}

/// Why a bidder lost, as OpenRTB's loss reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossReason {
    /// `2`: the auction was cancelled.
    Cancelled,
    /// `100`: no bid reached the reserve price, so nobody won (the contract names `102`
    /// and `2` only; OpenRTB's "below the auction floor" says what happened).
    BelowFloor,
    /// `102`: another bid won.
    Outbid,
}

impl LossReason {
    /// The OpenRTB code.
    pub fn code(self) -> i16 {
        match self {
            LossReason::Cancelled => 2,
            LossReason::BelowFloor => 100,
            LossReason::Outbid => 102,
        }
    }

    /// Reads a code back.
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            2 => Some(LossReason::Cancelled),
            100 => Some(LossReason::BelowFloor),
            102 => Some(LossReason::Outbid),
            _ => None,
        }
    }
}

/// The smallest step of money: the least that beats a sealed bid.
const TICK: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// What every loser of a settled auction is told beside its own bid: why it lost, and the
/// least amount that would have won (english: the winning amount plus the increment;
/// sealed kinds: the winning amount plus 0.0001; no winner: the reserve price).
pub fn loss_terms(
    kind: AuctionKind,
    reserve: Money,
    min_increment: Money,
    settled: &Settlement,
) -> (LossReason, Decimal) {
    match settled.winner {
        Some(w) if kind.is_sealed() => (LossReason::Outbid, w.amount.as_decimal() + TICK),
        Some(w) => (LossReason::Outbid, w.amount.plus(min_increment)),
        None => (LossReason::BelowFloor, reserve.as_decimal()),
    }
}

/// What a bidder that lost is told: its highest bid and what it would have taken, nothing
/// of other bids but the winner's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossNotice {
    /// The id receivers dedupe on.
    pub notice_id: String,
    /// The auction lost.
    pub auction_id: AuctionId,
    /// The bidder told.
    pub bidder_id: BidderId,
    /// Its highest bid on the auction.
    pub bid_id: BidId,
    /// Why it lost.
    pub loss_reason: LossReason,
    /// The least amount that would have won; `None` on cancellation.
    pub min_to_win: Option<Decimal>,
    /// What the winner pays; `None` without a winner.
    pub clearing_price: Option<Money>,
    /// The auction's currency.
    pub currency: String,
    /// When the auction was settled or cancelled.
    pub closed_at: DateTime<Utc>,
}

/// A notice owed to a bidder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `auction.won`.
    Won(WinNotice),
    /// `auction.lost`.
    Lost(LossNotice),
}

impl Notice {
    /// The id receivers dedupe on.
    pub fn notice_id(&self) -> &str {
        match self {
            Notice::Won(n) => &n.notice_id,
            Notice::Lost(n) => &n.notice_id,
        }
    }

    /// The auction it is about.
    pub fn auction_id(&self) -> AuctionId {
        match self {
            Notice::Won(n) => n.auction_id,
            Notice::Lost(n) => n.auction_id,
        }
    }

    /// The event name: `auction.won` or `auction.lost`.
    pub fn event(&self) -> &'static str {
        match self {
            Notice::Won(_) => "auction.won",
            Notice::Lost(_) => "auction.lost",
        }
    }
}

/// A notice owed for an auction, and where its delivery stands (what an admin sees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNotice {
    /// `auction.won` or `auction.lost`.
    pub event: &'static str,
    /// The id receivers dedupe on.
    pub notice_id: String,
    /// The bidder told.
    pub bidder_id: BidderId,
    /// Where its delivery stands (never `None`).
    pub state: NoticeState,
    /// Attempts made.
    pub attempts: i32,
    /// The last failed attempt's reason.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// A loss notice's reason.
    pub loss_reason: Option<LossReason>,
}

/// Delay before retry number `attempt` (1 = the retry after the first failure):
/// `base`, `2·base`, `4·base` … capped at `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// The text a notice signature covers: `"<unix seconds>.<body>"`.
pub fn signed_text(timestamp: i64, body: &str) -> String {
    format!("{timestamp}.{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let b = |n| backoff(n, s(1), s(300));
        assert_eq!([b(1), b(2), b(3), b(4)], [s(1), s(2), s(4), s(8)]);
        assert_eq!(b(9), s(256));
        assert_eq!(b(10), s(300));
        assert_eq!(b(64), s(300));
        assert_eq!(b(0), s(1));
    }

    #[test]
    fn losers_learn_the_least_that_would_have_won() {
        use crate::settlement::SettlementBid;
        let m = |s: &str| Money::from_decimal(s.parse().unwrap()).unwrap();
        let won = |amount: &str| Settlement {
            winner: Some(SettlementBid {
                bid_id: BidId::new(7).unwrap(),
                bidder_id: BidderId::new(3).unwrap(),
                amount: m(amount),
            }),
            clearing_price: Some(m("4.00")),
        };
        let (reserve, inc) = (m("1.00"), m("0.05"));
        let terms = |kind, s: &Settlement| {
            let (r, d) = loss_terms(kind, reserve, inc, s);
            (r.code(), crate::money::format_amount(d))
        };
        assert_eq!(
            terms(AuctionKind::English, &won("4.50")),
            (102, "4.55".into())
        );
        assert_eq!(
            terms(AuctionKind::FirstPrice, &won("4.50")),
            (102, "4.5001".into())
        );
        assert_eq!(
            terms(AuctionKind::SecondPrice, &won("4.50")),
            (102, "4.5001".into())
        );
        let nobody = Settlement {
            winner: None,
            clearing_price: None,
        };
        assert_eq!(
            terms(AuctionKind::FirstPrice, &nobody),
            (100, "1.00".into())
        );
        for r in [
            LossReason::Cancelled,
            LossReason::BelowFloor,
            LossReason::Outbid,
        ] {
            assert_eq!(LossReason::from_code(r.code()), Some(r));
        }
        assert_eq!(LossReason::from_code(0), None);
    }

    #[test]
    fn signed_text_is_timestamp_dot_body() {
        assert_eq!(signed_text(1700000000, "{}"), "1700000000.{}");
    }
}
