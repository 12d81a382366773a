//! The one error type of the use cases; the HTTP layer maps it to problem documents.

use gavel_domain::{AuctionStatus, BidRejection, DomainError, FieldError};
use gavel_storage::StorageError;

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks one or more field rules.
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    /// No such auction.
    #[error("auction not found")]
    AuctionNotFound,
    /// A well-formed bid that the auction does not accept.
    #[error("bid refused: {0:?}")]
    BidRefused(BidRejection),
    /// The auction's status forbids the operation.
    #[error("the auction is {}", .0.as_str())]
    InvalidState(AuctionStatus),
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// No such bidder (or no such live key of it).
    #[error("bidder not found")]
    BidderNotFound,
    /// The key's bidder is disabled.
    #[error("this bidder is disabled")]
    BidderDisabled,
    /// No or unknown credentials.
    #[error("missing or unknown credentials")]
    Unauthorized,
    /// PostgreSQL is unreachable or its pool is exhausted.
    #[error("database unavailable")]
    Unavailable,
    /// Too many event streams open, for this key or on this instance.
    #[error("too many event streams")]
    TooManyStreams {
        /// The key's own limit (else the instance's).
        per_key: bool,
    },
    /// The bid's deadline (`Gavel-Deadline-Ms`) passed before it was decided; it is not
    /// stored.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// Too much work queued on this instance; retry shortly.
    #[error("overloaded")]
    Overloaded,
    /// The services could not be built (at start-up).
    #[error("cannot start: {0}")]
    Setup(String),
    /// A bug or an unexpected database answer.
    #[error("storage failed")]
    Internal(#[source] StorageError),
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(v) => ServiceError::Invalid(v),
            DomainError::InvalidState(s) => ServiceError::InvalidState(s),
            DomainError::BidRejected(r) => r.into(),
        }
    }
}

impl From<BidRejection> for ServiceError {
    fn from(r: BidRejection) -> Self {
        match r {
            BidRejection::UnknownAuction => ServiceError::AuctionNotFound,
            other => ServiceError::BidRefused(other),
        }
    }
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable => ServiceError::Unavailable,
            StorageError::Busy => ServiceError::Overloaded,
            StorageError::DeadlineExceeded => ServiceError::DeadlineExceeded,
            // Only auctions are looked up by id on behalf of a client.
            StorageError::NotFound => ServiceError::AuctionNotFound,
            StorageError::Domain(d) => d.into(),
            e @ (StorageError::Internal(_) | StorageError::Corrupt(_)) => ServiceError::Internal(e),
        }
    }
}
