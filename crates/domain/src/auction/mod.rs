//! Auctions: their kinds, their life cycle, and the auction as stored.

mod new;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AuctionId, BidId, BidderId};
use crate::money::Money;
use crate::notice::NoticeState;

pub use new::{NewAuction, NewAuctionInput};

/// Longest an auction may run.
pub const MAX_DURATION: Duration = Duration::days(30);
/// Longest anti-sniping extension, in seconds.
pub const MAX_EXTEND_SECS: i32 = 3600;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// How an auction is run and priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuctionKind {
    /// Open ascending auction: every bid must beat the highest by the increment.
    #[default]
    English,
    /// Sealed bids, one per bidder; the winner pays its own bid.
    FirstPrice,
    /// Sealed bids, one per bidder; the winner pays the second price (Vickrey).
    SecondPrice,
}

impl AuctionKind {
    /// The name used in JSON and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuctionKind::English => "english",
            AuctionKind::FirstPrice => "first_price",
            AuctionKind::SecondPrice => "second_price",
        }
    }

    /// Parses the database / JSON name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "english" => Some(AuctionKind::English),
            "first_price" => Some(AuctionKind::FirstPrice),
            "second_price" => Some(AuctionKind::SecondPrice),
            _ => None,
        }
    }

    /// True for kinds whose bids stay hidden until the auction closes.
    pub fn is_sealed(&self) -> bool {
        !matches!(self, AuctionKind::English)
    }
}

/// Where an auction is in its life, by the database clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuctionStatus {
    /// Before `starts_at`.
    Scheduled,
    /// Between `starts_at` and `ends_at`: bids are taken.
    Open,
    /// Past `ends_at`, not yet settled.
    Closing,
    /// Settled: the result is final.
    Closed,
    /// Cancelled by an admin.
    Cancelled,
}

impl AuctionStatus {
    /// Every status, for tests that compare rules written elsewhere against [`status_at`].
    pub const ALL: [AuctionStatus; 5] = [
        AuctionStatus::Scheduled,
        AuctionStatus::Open,
        AuctionStatus::Closing,
        AuctionStatus::Closed,
        AuctionStatus::Cancelled,
    ];

    /// The name used in JSON and query strings.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuctionStatus::Scheduled => "scheduled",
            AuctionStatus::Open => "open",
            AuctionStatus::Closing => "closing",
            AuctionStatus::Closed => "closed",
            AuctionStatus::Cancelled => "cancelled",
        }
    }
}

/// The status rule: cancelled, else closed, else by the clock against start and end.
///
/// PostgreSQL filters lists by the same rule (the SQL function `auction_status`); a
/// storage test checks the two agree on every case.
pub fn status_at(
    cancelled: bool,
    closed: bool,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AuctionStatus {
    if cancelled {
        AuctionStatus::Cancelled
    } else if closed {
        AuctionStatus::Closed
    } else if now < starts_at {
        AuctionStatus::Scheduled
    } else if now < ends_at {
        AuctionStatus::Open
    } else {
        AuctionStatus::Closing
    }
}

/// What the bid and status rules need to know of a stored auction.
#[derive(Debug, Clone, PartialEq)]
pub struct AuctionState {
    /// The auction's kind.
    pub kind: AuctionKind,
    /// Lowest acceptable winning amount.
    pub reserve_price: Money,
    /// Step over the highest bid that an english bid must reach.
    pub min_increment: Money,
    /// Anti-sniping window in seconds (english only).
    pub extend_secs: i32,
    /// When bidding opens.
    pub starts_at: DateTime<Utc>,
    /// When bidding closes (moved by anti-sniping).
    pub ends_at: DateTime<Utc>,
    /// Set once an admin cancelled it.
    pub cancelled: bool,
    /// Set once it was settled.
    pub closed: bool,
    /// Highest accepted amount so far.
    pub highest: Option<Money>,
}

impl AuctionState {
    /// What an accepted bid of `amount` does to the auction: it leads when it became the
    /// highest, and the end moves when the bid extended it. Written once: storage records
    /// exactly this, in one statement shape, for every path a bid takes.
    pub fn accept(&mut self, amount: Money, accepted: &crate::bid::AcceptedBid) {
        if accepted.becomes_highest {
            self.highest = Some(amount);
        }
        if let Some(ends_at) = accepted.new_ends_at {
            self.ends_at = ends_at;
        }
    }

    /// Checks that an admin may cancel the auction at `now`: only scheduled or open ones.
    pub fn check_cancellable(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status(now) {
            AuctionStatus::Scheduled | AuctionStatus::Open => Ok(()),
            other => Err(DomainError::InvalidState(other)),
        }
    }

    /// The status at `now`, which must come from the database clock.
    pub fn status(&self, now: DateTime<Utc>) -> AuctionStatus {
        status_at(
            self.cancelled,
            self.closed,
            self.starts_at,
            self.ends_at,
            now,
        )
    }
}

/// The running highest bid of an auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HighestBid {
    /// The bid.
    pub bid_id: BidId,
    /// Who placed it.
    pub bidder_id: BidderId,
    /// How much.
    pub amount: Money,
}

/// How a settled auction ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionResult {
    /// The winning bid and bidder, if anybody won.
    pub winner: Option<Winner>,
    /// When it was settled.
    pub closed_at: DateTime<Utc>,
    /// Where the win notice is.
    pub notice: NoticeState,
}

/// Who won and what they pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Winner {
    /// The winning bidder.
    pub bidder_id: BidderId,
    /// The winning bid.
    pub bid_id: BidId,
    /// What the winner pays.
    pub clearing_price: Money,
}

/// An auction as stored, read together with the database clock that decides its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Auction {
    /// Its id, positive.
    pub id: AuctionId,
    /// What admins call it.
    pub title: String,
    /// English (open) or a sealed kind.
    pub kind: AuctionKind,
    /// Three upper-case letters.
    pub currency: String,
    /// Lowest winning amount.
    pub reserve_price: Money,
    /// English increment.
    pub min_increment: Money,
    /// Anti-sniping window in seconds.
    pub extend_secs: i32,
    /// When bidding opens.
    pub starts_at: DateTime<Utc>,
    /// End (moved by anti-sniping).
    pub ends_at: DateTime<Utc>,
    /// When an admin cancelled it.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The running highest bid.
    pub highest: Option<HighestBid>,
    /// Accepted bids.
    pub bid_count: i64,
    /// The outcome, once settled.
    pub result: Option<AuctionResult>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The database clock when the row was read.
    pub as_of: DateTime<Utc>,
}

impl Auction {
    /// The rule-relevant state.
    pub fn state(&self) -> AuctionState {
        AuctionState {
            kind: self.kind,
            reserve_price: self.reserve_price,
            min_increment: self.min_increment,
            extend_secs: self.extend_secs,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            cancelled: self.cancelled_at.is_some(),
            closed: self.result.is_some(),
            highest: self.highest.map(|h| h.amount),
        }
    }

    /// Status by the database clock at read time.
    pub fn status(&self) -> AuctionStatus {
        self.state().status(self.as_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn status_follows_the_clock() {
        let s = AuctionState {
            kind: AuctionKind::English,
            reserve_price: Money::ZERO,
            min_increment: Money::ZERO,
            extend_secs: 0,
            starts_at: t("2026-11-22T10:00:00Z"),
            ends_at: t("2026-11-22T10:05:00Z"),
            cancelled: false,
            closed: false,
            highest: None,
        };
        assert_eq!(
            s.status(t("2026-11-22T09:59:59Z")),
            AuctionStatus::Scheduled
        );
        assert_eq!(s.status(t("2026-11-22T10:00:00Z")), AuctionStatus::Open);
        assert_eq!(s.status(t("2026-11-22T10:05:00Z")), AuctionStatus::Closing);
        let closed = AuctionState {
            closed: true,
            ..s.clone()
        };
        assert_eq!(
            closed.status(t("2026-11-22T10:05:00Z")),
            AuctionStatus::Closed
        );
        let cancelled = AuctionState {
            cancelled: true,
            ..s
        };
        assert_eq!(
            cancelled.status(t("2026-11-22T10:01:00Z")),
            AuctionStatus::Cancelled
        );
    }
}
