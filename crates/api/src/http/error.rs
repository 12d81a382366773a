//! The one error type of the API, mapped to RFC 9457 problem documents here and only here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gavel_domain::{money::format_amount, AuctionStatus, BidRejection, DomainError, FieldError};
use gavel_storage::StorageError;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// Every error a request can end in. `code()` is the stable, machine-readable name.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or unknown bearer token.
    #[error("missing or unknown bearer token")]
    Unauthorized,
    /// A valid token without the right role.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Fields that break the rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Body is not JSON.
    #[error("{0}")]
    MalformedJson(String),
    /// JSON body without a JSON content type.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// Body over the size limit.
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    /// No such auction.
    #[error("auction not found")]
    AuctionNotFound,
    /// No such route.
    #[error("no such resource")]
    NotFound,
    /// Route exists, method does not.
    #[error("method not allowed on this resource")]
    MethodNotAllowed,
    /// The auction is not taking bids.
    #[error("the auction is {}", .0.as_str())]
    AuctionNotOpen(AuctionStatus),
    /// Below the least acceptable amount.
    #[error("bid is below the least acceptable amount {}", format_amount(*.min_amount))]
    BidTooLow {
        /// Least amount that would be accepted.
        min_amount: Decimal,
    },
    /// The auction's status forbids the operation.
    #[error("the auction is {}", .0.as_str())]
    InvalidState(AuctionStatus),
    /// Sealed auctions take one bid per bidder.
    #[error("this bidder already bid on this sealed auction")]
    AlreadyBid,
    /// Same idempotency key, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// Too many requests from one key.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be allowed.
        retry_after_secs: u64,
    },
    /// Too many requests in flight on this instance.
    #[error("the server is at capacity; retry shortly")]
    Overloaded,
    /// The request ran past the configured timeout.
    #[error("the request took too long")]
    Timeout,
    /// PostgreSQL unreachable or pool exhausted.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// Anything unexpected; the detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden(_) => StatusCode::FORBIDDEN,
            Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            MalformedJson(_) => StatusCode::BAD_REQUEST,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AuctionNotFound | NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AuctionNotOpen(_) | BidTooLow { .. } | AlreadyBid | InvalidState(_) => {
                StatusCode::CONFLICT
            }
            IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Overloaded | Timeout | DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            Unauthorized => "unauthorized",
            Forbidden(_) => "forbidden",
            Validation(_) => "validation_failed",
            MalformedJson(_) => "malformed_json",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            AuctionNotFound => "auction_not_found",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            AuctionNotOpen(_) => "auction_not_open",
            BidTooLow { .. } => "bid_too_low",
            AlreadyBid => "already_bid",
            InvalidState(_) => "invalid_state",
            IdempotencyKeyReused => "idempotency_key_reused",
            RateLimited { .. } => "rate_limited",
            Overloaded => "overloaded",
            Timeout => "timeout",
            DatabaseUnavailable => "database_unavailable",
            Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        use ApiError::*;
        match self {
            Unauthorized => "Unauthorized",
            Forbidden(_) => "Forbidden",
            Validation(_) => "Validation failed",
            MalformedJson(_) => "Malformed JSON",
            UnsupportedMediaType => "Unsupported media type",
            PayloadTooLarge => "Payload too large",
            AuctionNotFound => "Auction not found",
            NotFound => "Not found",
            MethodNotAllowed => "Method not allowed",
            AuctionNotOpen(_) => "Auction not open",
            BidTooLow { .. } => "Bid too low",
            AlreadyBid => "Already bid",
            InvalidState(_) => "Invalid state",
            IdempotencyKeyReused => "Idempotency key reused",
            RateLimited { .. } => "Rate limited",
            Overloaded => "Overloaded",
            Timeout => "Timeout",
            DatabaseUnavailable => "Database unavailable",
            Internal(_) => "Internal error",
        }
    }

    /// A one-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn extra(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            ApiError::Validation(errors) => {
                m.insert("errors".into(), json!(errors));
            }
            ApiError::AuctionNotOpen(s) | ApiError::InvalidState(s) => {
                m.insert("auction_status".into(), json!(s.as_str()));
            }
            ApiError::BidTooLow { min_amount } => {
                m.insert("min_amount".into(), json!(format_amount(*min_amount)));
            }
            _ => {}
        }
        m
    }
}

impl ApiError {
    /// The problem document.
    pub fn problem_body(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(self.title()));
        body.insert("status".into(), json!(self.status().as_u16()));
        body.insert("code".into(), json!(self.code()));
        body.insert("detail".into(), json!(self.to_string()));
        body.extend(self.extra());
        Value::Object(body)
    }
}

/// A JSON response with the right content type for its status.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let ct = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut resp = json_response(self.status(), &self.problem_body());
        let headers = resp.headers_mut();
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            ApiError::Overloaded => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::DatabaseUnavailable | ApiError::Timeout => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(v) => ApiError::Validation(v),
            DomainError::InvalidState(s) => ApiError::InvalidState(s),
            DomainError::BidRejected(BidRejection::NotOpen(s)) => ApiError::AuctionNotOpen(s),
            DomainError::BidRejected(BidRejection::TooLow { min_amount }) => {
                ApiError::BidTooLow { min_amount }
            }
            DomainError::BidRejected(BidRejection::AlreadyBid) => ApiError::AlreadyBid,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable => ApiError::DatabaseUnavailable,
            StorageError::NotFound => ApiError::AuctionNotFound,
            StorageError::Domain(d) => d.into(),
            StorageError::Internal(e) => ApiError::Internal(e.to_string()),
        }
    }
}
