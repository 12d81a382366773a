//! The one error type of the domain crate.

use serde::Serialize;

/// One invalid field of an input, as reported to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Name of the offending field, as the client spelled it.
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a text field is refused: PostgreSQL cannot store the NUL character.
pub const NUL_REFUSED: &str = "must not contain NUL characters";

/// Whether a text can be stored as it is.
pub fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// Everything a domain rule can refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// The input breaks one or more field rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The auction's status does not allow the operation (e.g. cancelling a closed one).
    #[error("auction is {}", .0.as_str())]
    InvalidState(crate::auction::AuctionStatus),
    /// A well-formed bid that the auction does not accept.
    #[error("bid rejected: {0:?}")]
    BidRejected(crate::bid::BidRejection),
}

impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        DomainError::Validation(vec![e])
    }
}
