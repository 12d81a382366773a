//! Creating an auction: the input as sent, and the rules that make it a valid auction.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{AuctionKind, MAX_DURATION, MAX_EXTEND_SECS, MAX_TITLE_CHARS};
use crate::error::{storable, DomainError, FieldError, NUL_REFUSED};
use crate::money::Money;

/// The create-auction body as sent, before validation.
// Every field is optional here so that a missing one is a field error, not a parse error;
// the schema says which ones are required.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = NewAuction))]
pub struct NewAuctionInput {
    /// 1..=200 characters as sent (padding counts), stored trimmed.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, required = true, min_length = 1, max_length = 200)
    )]
    pub title: Option<String>,
    /// Defaults to english.
    #[cfg_attr(feature = "openapi", schema(default = "english"))]
    pub kind: Option<AuctionKind>,
    /// Three upper-case letters, default USD.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Z]{3}$", default = "USD"))]
    pub currency: Option<String>,
    /// ≥ 0, default 0.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::AmountInput>, default = "0"))]
    pub reserve_price: Option<Money>,
    /// > 0, default 0.01, english only.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::AmountInput>, default = "0.01"))]
    pub min_increment: Option<Money>,
    /// 0..=3600, default 0, english only (anti-sniping: a bid accepted within this many
    /// seconds of the end moves the end to bid time + this).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 3600, default = 0))]
    pub extend_secs: Option<i64>,
    /// Default now.
    pub starts_at: Option<DateTime<Utc>>,
    /// Required; after `starts_at`, at most 30 days after it.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = DateTime<Utc>, required = true)
    )]
    pub ends_at: Option<DateTime<Utc>>,
}

/// A validated auction, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuction {
    /// Trimmed title.
    pub title: String,
    /// English (open) or a sealed kind.
    pub kind: AuctionKind,
    /// ISO 4217-shaped code.
    pub currency: String,
    /// Reserve price.
    pub reserve_price: Money,
    /// Increment (the default for sealed kinds, where it is unused).
    pub min_increment: Money,
    /// Anti-sniping window in seconds.
    pub extend_secs: i32,
    /// When bidding opens.
    pub starts_at: DateTime<Utc>,
    /// When bidding ends, after `starts_at`, at most 30 days later.
    pub ends_at: DateTime<Utc>,
}

impl NewAuctionInput {
    /// Checks every field and reports all problems at once.
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewAuction, DomainError> {
        let mut errors = Vec::new();
        let raw = self.title.as_deref().unwrap_or_default();
        let title = raw.trim();
        if !storable(title) {
            errors.push(FieldError::new("title", NUL_REFUSED));
        } else if title.is_empty() {
            errors.push(FieldError::new("title", "is required"));
        } else if raw.chars().count() > MAX_TITLE_CHARS {
            // Counted as sent, as the schema's maxLength is: padding counts too.
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
    fn nul_is_refused_by_field() {
        let bad = NewAuctionInput {
            title: Some("a\u{0}b".into()),
            currency: Some("U\u{0}D".into()),
            ..input()
        };
        let f = fields(bad.validate(t("2026-11-22T09:00:00Z")).unwrap_err());
        assert_eq!(f, ["title", "currency"]);
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
}
