//! Auctions: their kinds, their life cycle, and the rules for creating one.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};
use crate::money::Money;

/// Longest an auction may run.
pub const MAX_DURATION: Duration = Duration::days(30);
/// Longest anti-sniping extension, in seconds.
pub const MAX_EXTEND_SECS: i32 = 3600;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// How an auction is run and priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
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
#[serde(rename_all = "snake_case")]
pub enum AuctionStatus {
    /// Before `starts_at`.
    Scheduled,
    /// Between `starts_at` and `ends_at`: bids are taken.
    Open,
    /// Past `ends_at`, not yet settled.
    Closing,
    /// Settled.
    Closed,
    /// Cancelled by an admin.
    Cancelled,
}

impl AuctionStatus {
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
    /// Checks that an admin may cancel the auction at `now`: only scheduled or open ones.
    pub fn check_cancellable(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status(now) {
            AuctionStatus::Scheduled | AuctionStatus::Open => Ok(()),
            other => Err(DomainError::InvalidState(other)),
        }
    }

    /// The status at `now`, which must come from the database clock.
    pub fn status(&self, now: DateTime<Utc>) -> AuctionStatus {
        if self.cancelled {
            AuctionStatus::Cancelled
        } else if self.closed {
            AuctionStatus::Closed
        } else if now < self.starts_at {
            AuctionStatus::Scheduled
        } else if now < self.ends_at {
            AuctionStatus::Open
        } else {
            AuctionStatus::Closing
        }
    }
}

/// The create-auction body as sent, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewAuctionInput {
    /// 1..=200 characters.
    pub title: Option<String>,
    /// Defaults to english.
    pub kind: Option<AuctionKind>,
    /// Three upper-case letters, default USD.
    pub currency: Option<String>,
    /// ≥ 0, default 0.
    pub reserve_price: Option<Money>,
    /// > 0, default 0.01, english only.
    pub min_increment: Option<Money>,
    /// 0..=3600, default 0, english only.
    pub extend_secs: Option<i64>,
    /// Default now.
    pub starts_at: Option<DateTime<Utc>>,
    /// Required; after `starts_at`, at most 30 days after it.
    pub ends_at: Option<DateTime<Utc>>,
}

/// A validated auction, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuction {
    /// Trimmed title.
    pub title: String,
    /// Kind.
    pub kind: AuctionKind,
    /// ISO 4217-shaped code.
    pub currency: String,
    /// Reserve price.
    pub reserve_price: Money,
    /// Increment (the default for sealed kinds, where it is unused).
    pub min_increment: Money,
    /// Anti-sniping window in seconds.
    pub extend_secs: i32,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

impl NewAuctionInput {
    /// Checks every field and reports all problems at once.
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewAuction, DomainError> {
        let mut errors = Vec::new();
        let title = self.title.as_deref().map(str::trim).unwrap_or_default();
        let title_len = title.chars().count();
        if title_len == 0 {
            errors.push(FieldError::new("title", "is required"));
        } else if title_len > MAX_TITLE_CHARS {
            errors.push(FieldError::new(
                "title",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        let kind = self.kind.unwrap_or_default();
        let currency = self.currency.unwrap_or_else(|| "USD".into());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new(
                "currency",
                "must be three upper-case letters",
            ));
        }
        let default_increment: Money = "0.01".parse().expect("literal amount");
        let min_increment = match (kind, self.min_increment) {
            (_, None) => default_increment,
            (AuctionKind::English, Some(m)) if m.is_zero() => {
                errors.push(FieldError::new("min_increment", "must be greater than 0"));
                default_increment
            }
            (AuctionKind::English, Some(m)) => m,
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    "min_increment",
                    "applies to english auctions only",
                ));
                default_increment
            }
        };
        let extend_secs = match (kind, self.extend_secs) {
            (_, None) => 0,
            (AuctionKind::English, Some(s)) if (0..=MAX_EXTEND_SECS as i64).contains(&s) => {
                s as i32
            }
            (AuctionKind::English, Some(_)) => {
                errors.push(FieldError::new(
                    "extend_secs",
                    format!("must be between 0 and {MAX_EXTEND_SECS}"),
                ));
                0
            }
            (_, Some(0)) => 0,
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    "extend_secs",
                    "applies to english auctions only",
                ));
                0
            }
        };
        let starts_at = self.starts_at.unwrap_or(now);
        let ends_at = match self.ends_at {
            None => {
                errors.push(FieldError::new("ends_at", "is required"));
                starts_at
            }
            Some(e) if e <= starts_at => {
                errors.push(FieldError::new("ends_at", "must be after starts_at"));
                e
            }
            Some(e) if e - starts_at > MAX_DURATION => {
                errors.push(FieldError::new(
                    "ends_at",
                    "must be at most 30 days after starts_at",
                ));
                e
            }
            Some(e) => e,
        };
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(NewAuction {
            title: title.to_string(),
            kind,
            currency,
            reserve_price: self.reserve_price.unwrap_or(Money::ZERO),
            min_increment,
            extend_secs,
            starts_at,
            ends_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn input() -> NewAuctionInput {
        NewAuctionInput {
            title: Some("Leaderboard".into()),
            ends_at: Some(t("2026-11-22T10:05:00Z")),
            starts_at: Some(t("2026-11-22T10:00:00Z")),
            ..Default::default()
        }
    }

    fn fields(e: DomainError) -> Vec<String> {
        match e {
            DomainError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn defaults_are_applied() {
        let a = input().validate(t("2026-11-22T09:00:00Z")).unwrap();
        assert_eq!(a.kind, AuctionKind::English);
        assert_eq!(a.currency, "USD");
        assert_eq!(a.reserve_price, Money::ZERO);
        assert_eq!(a.min_increment.to_string(), "0.01");
        assert_eq!(a.extend_secs, 0);
    }

    #[test]
    fn starts_at_defaults_to_now() {
        let now = t("2026-11-22T10:01:00Z");
        let a = NewAuctionInput {
            starts_at: None,
            ..input()
        }
        .validate(now)
        .unwrap();
        assert_eq!(a.starts_at, now);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = NewAuctionInput {
            title: Some("   ".into()),
            currency: Some("usd".into()),
            min_increment: Some(Money::ZERO),
            extend_secs: Some(3601),
            ends_at: Some(t("2026-11-22T09:00:00Z")),
            ..input()
        };
        let f = fields(bad.validate(t("2026-11-22T09:00:00Z")).unwrap_err());
        assert_eq!(
            f,
            [
                "title",
                "currency",
                "min_increment",
                "extend_secs",
                "ends_at"
            ]
        );
    }

    #[test]
    fn at_most_thirty_days() {
        let ok = NewAuctionInput {
            ends_at: Some(t("2026-12-22T10:00:00Z")),
            ..input()
        };
        assert!(ok.validate(t("2026-11-22T09:00:00Z")).is_ok());
        let long = NewAuctionInput {
            ends_at: Some(t("2026-12-22T10:00:01Z")),
            ..input()
        };
        assert_eq!(
            fields(long.validate(t("2026-11-22T09:00:00Z")).unwrap_err()),
            ["ends_at"]
        );
    }

    #[test]
    fn english_only_settings_are_refused_on_sealed_kinds() {
        let sealed = NewAuctionInput {
            kind: Some(AuctionKind::SecondPrice),
            min_increment: Some("1".parse().unwrap()),
            extend_secs: Some(30),
            ..input()
        };
        assert_eq!(
            fields(sealed.validate(t("2026-11-22T09:00:00Z")).unwrap_err()),
            ["min_increment", "extend_secs"]
        );
    }

    #[test]
    fn title_limit_counts_characters_not_bytes() {
        let ok = NewAuctionInput {
            title: Some("é".repeat(200)),
            ..input()
        };
        assert!(ok.validate(t("2026-11-22T09:00:00Z")).is_ok());
        let long = NewAuctionInput {
            title: Some("é".repeat(201)),
            ..input()
        };
        assert!(long.validate(t("2026-11-22T09:00:00Z")).is_err());
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
