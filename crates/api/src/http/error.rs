//! The one error type of the API, mapped to RFC 9457 problem documents here and only here.

use std::error::Error as StdError;
use std::fmt::Write;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gavel_domain::bid::{codes, offerable_min};
use gavel_domain::money::format_amount;
use gavel_domain::{AuctionStatus, BidRejection, FieldError, Money};
use gavel_service::ServiceError;
use serde_json::{json, Map, Value};

/// Every error a request can end in.
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
    #[error("{}", too_low_detail(.min_amount))]
    BidTooLow {
        /// Least amount that would be accepted; `None` when no amount the API takes can win.
        min_amount: Option<Money>,
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
    /// No such bidder, or no such live key of it.
    #[error("no such bidder or key")]
    BidderNotFound,
    /// The key's bidder is disabled.
    #[error("this bidder is disabled; its keys are refused")]
    BidderDisabled,
    /// The bid was not decided within its `Gavel-Deadline-Ms`; it is not stored.
    #[error("the bid was not decided within its deadline; it is not stored")]
    DeadlineExceeded,
    /// The request ran past the configured timeout.
    #[error("the request took too long")]
    Timeout,
    /// PostgreSQL unreachable or pool exhausted.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// Anything unexpected; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

/// What the problem document and the status line say of an error.
struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
}

impl ApiError {
    /// Status, stable code and title: the one table.
    fn problem(&self) -> Problem {
        use ApiError::*;
        let (status, code, title) = match self {
            Unauthorized => (401, "unauthorized", "Unauthorized"),
            Forbidden(_) => (403, "forbidden", "Forbidden"),
            Validation(_) => (422, "validation_failed", "Validation failed"),
            MalformedJson(_) => (400, "malformed_json", "Malformed JSON"),
            UnsupportedMediaType => (415, "unsupported_media_type", "Unsupported media type"),
            PayloadTooLarge => (413, "payload_too_large", "Payload too large"),
            AuctionNotFound => (404, codes::AUCTION_NOT_FOUND, "Auction not found"),
            NotFound => (404, "not_found", "Not found"),
            MethodNotAllowed => (405, "method_not_allowed", "Method not allowed"),
            AuctionNotOpen(_) => (409, codes::AUCTION_NOT_OPEN, "Auction not open"),
            BidTooLow { .. } => (409, codes::BID_TOO_LOW, "Bid too low"),
            InvalidState(_) => (409, "invalid_state", "Invalid state"),
            AlreadyBid => (409, codes::ALREADY_BID, "Already bid"),
            IdempotencyKeyReused => (422, "idempotency_key_reused", "Idempotency key reused"),
            RateLimited { .. } => (429, "rate_limited", "Rate limited"),
            Overloaded => (503, "overloaded", "Overloaded"),
            Timeout => (503, "timeout", "Timeout"),
            DeadlineExceeded => (503, "deadline_exceeded", "Deadline exceeded"),
            BidderNotFound => (404, "bidder_not_found", "Bidder not found"),
            BidderDisabled => (403, "bidder_disabled", "Bidder disabled"),
            DatabaseUnavailable => (503, "database_unavailable", "Database unavailable"),
            Internal(_) => (500, "internal", "Internal error"),
        };
        Problem {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            title,
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        self.problem().status
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.problem().code
    }

    /// A one-field validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// An unexpected failure, with its cause kept for the log.
    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ApiError::Internal(cause.into())
    }

    /// The problem document: the contract's members plus each error's extras.
    pub fn problem_body(&self) -> Value {
        let p = self.problem();
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(p.title));
        body.insert("status".into(), json!(p.status.as_u16()));
        body.insert("code".into(), json!(p.code));
        body.insert("detail".into(), json!(self.to_string()));
        match self {
            ApiError::Validation(errors) => {
                body.insert("errors".into(), json!(errors));
            }
            ApiError::AuctionNotOpen(s) | ApiError::InvalidState(s) => {
                body.insert("auction_status".into(), json!(s.as_str()));
            }
            ApiError::BidTooLow { min_amount } => {
                let min = min_amount.map(|m| format_amount(m.as_decimal()));
                body.insert("min_amount".into(), json!(min));
            }
            _ => {}
        }
        Value::Object(body)
    }

    /// Headers some errors carry.
    fn header(&self) -> Option<(header::HeaderName, HeaderValue)> {
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                Some((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)))
            }
            // Every 503 says when to come back, as the document promises for the status.
            ApiError::Overloaded
            | ApiError::DatabaseUnavailable
            | ApiError::Timeout
            | ApiError::DeadlineExceeded => {
                Some((header::RETRY_AFTER, HeaderValue::from_static("1")))
            }
            ApiError::Unauthorized => {
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")))
            }
            _ => None,
        }
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

/// The cause of a 5xx, carried on its response to [`log_failures`], which logs it once.
#[derive(Clone, Debug)]
struct Failure(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status(), &self.problem_body());
        if let Some((name, value)) = self.header() {
            resp.headers_mut().insert(name, value);
        }
        if let ApiError::Overloaded = &self {
            metrics::counter!("gavel_http_requests_shed_total").increment(1);
        }
        if let ApiError::Internal(cause) = &self {
            resp.extensions_mut()
                .insert(Failure(cause_chain(cause.as_ref())));
        }
        resp
    }
}

/// `cause: its cause: …`, so a log line says why, not only what.
fn cause_chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// The detail of a `bid_too_low`.
fn too_low_detail(min_amount: &Option<Money>) -> String {
    match min_amount {
        Some(m) => format!(
            "bid is below the least acceptable amount {}",
            format_amount(m.as_decimal())
        ),
        None => {
            "the highest bid is within one increment of the largest amount; no amount can beat it"
                .into()
        }
    }
}

/// Logs the internal error behind `resp`, if any, with its cause chain (once: the
/// [`observe`](super::observe) layer calls this for each answer, inside its span).
pub fn log_failure<B>(resp: &axum::http::Response<B>) {
    if let Some(Failure(chain)) = resp.extensions().get::<Failure>() {
        tracing::error!(error = %chain, "internal error");
    }
}

impl From<BidRejection> for ApiError {
    fn from(r: BidRejection) -> Self {
        match r {
            BidRejection::UnknownAuction => ApiError::AuctionNotFound,
            BidRejection::NotOpen(s) => ApiError::AuctionNotOpen(s),
            BidRejection::TooLow { min_amount } => ApiError::BidTooLow {
                min_amount: offerable_min(min_amount),
            },
            BidRejection::AlreadyBid => ApiError::AlreadyBid,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => ApiError::Validation(v),
            ServiceError::AuctionNotFound => ApiError::AuctionNotFound,
            ServiceError::BidRefused(r) => r.into(),
            ServiceError::InvalidState(s) => ApiError::InvalidState(s),
            ServiceError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            ServiceError::Unauthorized => ApiError::Unauthorized,
            ServiceError::Unavailable => ApiError::DatabaseUnavailable,
            ServiceError::Overloaded => ApiError::Overloaded,
            ServiceError::DeadlineExceeded => ApiError::DeadlineExceeded,
            ServiceError::BidderNotFound => ApiError::BidderNotFound,
            ServiceError::BidderDisabled => ApiError::BidderDisabled,
            ServiceError::TooManyStreams { per_key: true } => ApiError::RateLimited {
                retry_after_secs: 1,
            },
            ServiceError::TooManyStreams { per_key: false } => ApiError::Overloaded,
            e @ (ServiceError::Internal(_) | ServiceError::Setup(_)) => ApiError::internal(e),
        }
    }
}
