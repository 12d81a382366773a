//! Win notices: what a winner is told, where its delivery stands, and the retry rules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AuctionId, BidId, BidderId};
use crate::money::Money;

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
    fn signed_text_is_timestamp_dot_body() {
        assert_eq!(signed_text(1700000000, "{}"), "1700000000.{}");
    }
}
