//! Bidders: the exchanges and seats that hold API keys, and the rules for creating one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{storable, DomainError, FieldError, NUL_REFUSED};
use crate::ids::BidderId;
use crate::webhook::{url_problem, Targets};

/// Longest bidder name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A bidder as stored (never its key or secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bidder {
    /// Its id, positive.
    pub id: BidderId,
    /// Display name.
    pub name: String,
    /// Where win notices go.
    pub webhook_url: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
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
