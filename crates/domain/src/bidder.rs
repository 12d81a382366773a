//! Bidders: the exchanges and seats that hold API keys, and the rules for creating one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{storable, DomainError, FieldError, NUL_REFUSED};
use crate::ids::BidderId;
use crate::webhook::{url_problem, Targets};

/// Longest bidder name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Most bids a second a bidder's own `rate_limit` may allow (per instance).
pub const MAX_RATE_LIMIT: u32 = 1_000_000;

/// Whether a bidder's keys are honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BidderStatus {
    /// Its keys work.
    #[default]
    Active,
    /// Its keys are refused (`403 bidder_disabled`); its bids already placed stand.
    Disabled,
}

impl BidderStatus {
    /// The name used in JSON and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            BidderStatus::Active => "active",
            BidderStatus::Disabled => "disabled",
        }
    }

    /// Parses the name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(BidderStatus::Active),
            "disabled" => Some(BidderStatus::Disabled),
            _ => None,
        }
    }
}

/// A bidder as stored (never its key or secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bidder {
    /// Its id, positive.
    pub id: BidderId,
    /// Display name.
    pub name: String,
    /// Where win and loss notices go.
    pub webhook_url: Option<String>,
    /// Whether its keys are honoured.
    pub status: BidderStatus,
    /// Its own bids-a-second limit per instance; `None`: the server default.
    pub rate_limit: Option<u32>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One of a bidder's API keys, as shown (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidderKey {
    /// Its id.
    pub key_id: i64,
    /// Its first 8 characters.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// How many leading characters of a key identify it.
pub const KEY_PREFIX_CHARS: usize = 8;

/// The part of a key that may be shown: its first [`KEY_PREFIX_CHARS`] characters.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(KEY_PREFIX_CHARS).collect()
}

/// A change to a bidder as sent: absent fields stay; `webhook_url` and `rate_limit` may be
/// `null` (cleared: no webhook, the server's default limit).
#[derive(Debug, Clone, Default)]
pub struct BidderPatchInput {
    /// New name.
    pub name: Option<String>,
    /// `Some(None)`: clear.
    pub webhook_url: Option<Option<String>>,
    /// New status, as sent.
    pub status: Option<String>,
    /// `Some(None)`: back to the server default.
    pub rate_limit: Option<Option<i64>>,
}

/// A validated change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BidderPatch {
    /// New trimmed name.
    pub name: Option<String>,
    /// `Some(None)`: clear.
    pub webhook_url: Option<Option<String>>,
    /// New status.
    pub status: Option<BidderStatus>,
    /// `Some(None)`: the server default.
    pub rate_limit: Option<Option<u32>>,
}

impl BidderPatchInput {
    /// Checks every field sent and reports all problems at once.
    pub fn validate(self, targets: Targets) -> Result<BidderPatch, DomainError> {
        let mut errors = Vec::new();
        let name = self.name.map(|raw| {
            let name = raw.trim().to_string();
            if !storable(&name) {
                errors.push(FieldError::new("name", NUL_REFUSED));
            } else if name.is_empty() {
                errors.push(FieldError::new("name", "must not be empty"));
            } else if raw.chars().count() > MAX_NAME_CHARS {
                errors.push(FieldError::new(
                    "name",
                    format!("must be at most {MAX_NAME_CHARS} characters"),
                ));
            }
            name
        });
        let webhook_url = self.webhook_url.map(|u| {
            let u = u.filter(|u| !u.trim().is_empty());
            if u.as_deref().is_some_and(|u| !storable(u)) {
                errors.push(FieldError::new("webhook_url", NUL_REFUSED));
            } else if let Some(problem) = u.as_deref().and_then(|u| url_problem(u, targets)) {
                errors.push(FieldError::new("webhook_url", problem));
            }
            u
        });
        let status = self.status.and_then(|s| {
            let parsed = BidderStatus::parse(&s);
            if parsed.is_none() {
                errors.push(FieldError::new("status", "must be active or disabled"));
            }
            parsed
        });
        let rate_limit = self.rate_limit.map(|r| {
            r.and_then(|n| match u32::try_from(n) {
                Ok(n) if (1..=MAX_RATE_LIMIT).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "rate_limit",
                        format!("must be a whole number from 1 to {MAX_RATE_LIMIT}, or null"),
                    ));
                    None
                }
            })
        });
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(BidderPatch {
            name,
            webhook_url,
            status,
            rate_limit,
        })
    }
}

/// The create-bidder body as sent, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = NewBidder))]
pub struct NewBidderInput {
    /// 1..=200 characters as sent (padding counts), stored trimmed.
    // Optional here so that a missing name is a field error, not a parse error.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, required = true, min_length = 1, max_length = 200, examples("exchange-1"))
    )]
    pub name: Option<String>,
    /// Where win notices go: an absolute http(s) URL without user information, not
    /// pointing at loopback, link-local or private addresses (unless the server allows
    /// them); empty or null means none.
    #[cfg_attr(
        feature = "openapi",
        schema(examples("https://exchange-1.example/win"))
    )]
    pub webhook_url: Option<String>,
}

/// A validated bidder, ready to be given its key and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBidder {
    /// Trimmed name.
    pub name: String,
    /// Where win notices go.
    pub webhook_url: Option<String>,
}

impl NewBidderInput {
    /// Checks every field and reports all problems at once; the webhook URL must reach
    /// only what `targets` allows.
    pub fn validate(self, targets: Targets) -> Result<NewBidder, DomainError> {
        let mut errors = Vec::new();
        let raw = self.name.as_deref().unwrap_or("");
        let name = raw.trim().to_string();
        if !storable(&name) {
            errors.push(FieldError::new("name", NUL_REFUSED));
        } else if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if raw.chars().count() > MAX_NAME_CHARS {
            // Counted as sent, as the schema's maxLength is: padding counts too.
            errors.push(FieldError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        let webhook_url = self.webhook_url.filter(|u| !u.trim().is_empty());
        if webhook_url.as_deref().is_some_and(|u| !storable(u)) {
            errors.push(FieldError::new("webhook_url", NUL_REFUSED));
        } else if let Some(problem) = webhook_url.as_deref().and_then(|u| url_problem(u, targets)) {
            errors.push(FieldError::new("webhook_url", problem));
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(NewBidder { name, webhook_url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_checked_field_by_field() {
        let ok = BidderPatchInput {
            name: Some(" dsp ".into()),
            webhook_url: Some(None),
            status: Some("disabled".into()),
            rate_limit: Some(Some(500)),
        }
        .validate(Targets::PublicOnly)
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("dsp"));
        assert_eq!(ok.webhook_url, Some(None));
        assert_eq!(ok.status, Some(BidderStatus::Disabled));
        assert_eq!(ok.rate_limit, Some(Some(500)));
        let bad = BidderPatchInput {
            name: Some("  ".into()),
            webhook_url: Some(Some("ftp://x.example/".into())),
            status: Some("paused".into()),
            rate_limit: Some(Some(0)),
        }
        .validate(Targets::PublicOnly)
        .unwrap_err();
        let DomainError::Validation(fields) = bad else {
            panic!("{bad:?}")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "webhook_url", "status", "rate_limit"]);
        assert_eq!(key_prefix("gvl_abcdefgh"), "gvl_abcd");
    }

    #[test]
    fn a_name_is_as_long_as_it_was_sent_padding_included() {
        let padded = |n: usize| NewBidderInput {
            name: Some(format!("\r{}", "x".repeat(n))),
            webhook_url: None,
        };
        assert!(padded(199).validate(Targets::PublicOnly).is_ok());
        assert!(padded(200).validate(Targets::PublicOnly).is_err());
    }

    #[test]
    fn names_and_urls_are_checked() {
        let ok = NewBidderInput {
            name: Some("  exchange-1 ".into()),
            webhook_url: Some(String::new()),
        }
        .validate(Targets::PublicOnly)
        .unwrap();
        assert_eq!(ok.name, "exchange-1");
        assert_eq!(ok.webhook_url, None);
        let bad = NewBidderInput {
            name: Some("x".repeat(201)),
            webhook_url: Some("ftp://example.com/".into()),
        }
        .validate(Targets::PublicOnly)
        .unwrap_err();
        let DomainError::Validation(fields) = bad else {
            panic!("{bad:?}")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "webhook_url"]);
        let nul = NewBidderInput {
            name: Some("a\u{0}b".into()),
            webhook_url: Some("https://example.com/\u{0}".into()),
        }
        .validate(Targets::PublicOnly)
        .unwrap_err();
        assert_eq!(
            nul,
            DomainError::Validation(vec![
                FieldError::new("name", NUL_REFUSED),
                FieldError::new("webhook_url", NUL_REFUSED)
            ])
        );
    }
}
