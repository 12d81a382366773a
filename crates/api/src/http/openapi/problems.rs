//! The error responses of the document, derived from the one error table: each route lists
//! the errors it can answer as `ApiError` values (here), and their status, code, title,
//! extra members, headers and example bodies are read from what `ApiError` itself renders
//! (`render`).

mod render;

use std::collections::BTreeMap;

use gavel_domain::{AuctionStatus, FieldError, Money};
use rust_decimal::Decimal;
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{Ref, RefOr, Response, Schema};
use utoipa::{IntoResponses, ToSchema};

use crate::http::error::ApiError;
use render::responses;
pub use render::shared_responses;

/// One of each error, as the document shows them.
pub fn every_error() -> Vec<ApiError> {
    use ApiError::*;
    let all = vec![
        Unauthorized,
        Forbidden("this route is for the admin"),
        validation("ends_at", "is required"),
        malformed(),
        UnsupportedMediaType,
        PayloadTooLarge,
        AuctionNotFound,
        NotFound,
        MethodNotAllowed,
        AuctionNotOpen(AuctionStatus::Closed),
        too_low(),
        InvalidState(AuctionStatus::Closed),
        AlreadyBid,
        IdempotencyKeyReused,
        RateLimited {
            retry_after_secs: 1,
        },
        Overloaded,
        Timeout,
        DeadlineExceeded,
        BidderNotFound,
        BidderDisabled,
        DatabaseUnavailable,
        ApiError::internal("example"),
    ];
    for e in &all {
        // No wildcard: a new variant stops the build here until it is listed above.
        match e {
            Unauthorized | Forbidden(_) | Validation(_) | MalformedJson(_) => {}
            UnsupportedMediaType | PayloadTooLarge | AuctionNotFound | NotFound => {}
            MethodNotAllowed | AuctionNotOpen(_) | BidTooLow { .. } | InvalidState(_) => {}
            AlreadyBid | IdempotencyKeyReused | RateLimited { .. } | Overloaded => {}
            Timeout | DeadlineExceeded | DatabaseUnavailable | Internal(_) => {}
            BidderNotFound | BidderDisabled => {}
        }
    }
    all
}

/// A `409 bid_too_low`.
fn too_low() -> ApiError {
    ApiError::BidTooLow {
        min_amount: Money::from_decimal(Decimal::new(1255, 2)).ok(),
    }
}

/// A `400 malformed_json`.
fn malformed() -> ApiError {
    ApiError::MalformedJson("body is not valid JSON: EOF while parsing an object".into())
}

/// A one-field `422 validation_failed`.
fn validation(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// What any caller with a key may meet: no or an unknown key, the bidder rate limit, an
/// instance at capacity, a slow or missing database, the request timeout, a bug.
fn any_key() -> Vec<ApiError> {
    vec![
        ApiError::Unauthorized,
        ApiError::BidderDisabled,
        ApiError::RateLimited {
            retry_after_secs: 1,
        },
        ApiError::Overloaded,
        ApiError::Timeout,
        ApiError::DatabaseUnavailable,
        ApiError::internal("example"),
    ]
}

/// Admin routes: any key's errors, and a bidder key is forbidden.
fn admin() -> Vec<ApiError> {
    let mut errors = any_key();
    errors.push(ApiError::Forbidden("this route is for the admin"));
    errors
}

/// Routes that read a JSON body; `invalid` is a field error typical of the body.
fn json_body(invalid: ApiError) -> Vec<ApiError> {
    vec![
        malformed(),
        ApiError::UnsupportedMediaType,
        ApiError::PayloadTooLarge,
        invalid,
    ]
}

/// The errors of several groups, in order.
fn all<const N: usize>(groups: [Vec<ApiError>; N]) -> Vec<ApiError> {
    groups.into_iter().flatten().collect()
}

/// Routes with `?limit=` and `?cursor=`.
fn paged() -> Vec<ApiError> {
    vec![validation("limit", "must be between 1 and 500")]
}

/// Declares types whose `IntoResponses` are the problem documents of the errors listed.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident => $errors:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                responses($errors, &[])
            }
        }
    )*};
}

error_responses! {
    /// `GET /metrics` without the `GAVEL_METRICS_TOKEN` bearer, when that is set.
    MetricsErrors => vec![ApiError::Unauthorized];
    /// `POST /api/bidders`.
    CreateBidderErrors => all([admin(), json_body(validation("name", "is required"))]);
    /// `GET /api/bidders`.
    ListBiddersErrors => all([admin(), paged()]);
    /// `GET /api/bidders/{id}`, `DELETE /api/bidders/{id}/keys/{key_id}`.
    OneBidderErrors => all([admin(), vec![ApiError::BidderNotFound]]);
    /// `PATCH /api/bidders/{id}`.
    UpdateBidderErrors => all([
        admin(),
        json_body(validation("status", "must be active or disabled")),
        vec![ApiError::BidderNotFound],
    ]);
    /// `POST /api/bidders/{id}/keys`.
    CreateKeyErrors => all([
        admin(),
        json_body(validation("expire_others_in_secs", "must be a whole number from 0 to 2592000")),
        vec![ApiError::BidderNotFound],
    ]);
    /// `POST /api/auctions`.
    CreateAuctionErrors => all([admin(), json_body(validation("ends_at", "is required"))]);
    /// `GET /api/auctions`.
    ListAuctionsErrors => all([
        any_key(),
        paged(),
        vec![validation(
            "status",
            "unknown variant `sold`, expected one of `scheduled`, `open`, `closing`, `closed`, `cancelled`",
        )],
    ]);
    /// `GET /api/auctions/{id}`.
    AuctionErrors => all([any_key(), vec![ApiError::AuctionNotFound]]);
    /// `GET /api/auctions/{id}/events`: also a `Last-Event-ID` this server never gave out
    /// (the stream limits answer 429 and 503, as any key's requests may).
    StreamErrors => all([
        any_key(),
        vec![
            ApiError::AuctionNotFound,
            validation("Last-Event-ID", "must be the id of an event of this stream"),
        ],
    ]);
    /// `POST /api/auctions/{id}/cancel`.
    CancelAuctionErrors => all([
        admin(),
        vec![ApiError::AuctionNotFound, ApiError::InvalidState(AuctionStatus::Closed)],
    ]);
    /// `GET /api/auctions/{id}/notices`.
    AuctionNoticesErrors => all([admin(), vec![ApiError::AuctionNotFound]]);
    /// `GET /api/auctions/{id}/bids` and `GET /api/bids/{auction_id}`.
    ListBidsErrors => all([any_key(), paged(), vec![ApiError::AuctionNotFound]]);
    /// `GET /admin/js/{module}`: a name that is not one of the console's modules.
    ConsoleModuleErrors => vec![ApiError::NotFound];
}

/// `POST /api/bids`; an `Idempotency-Key` replays a stored refusal with `Idempotent-Replayed`.
#[derive(Debug)]
pub struct PlaceBidErrors;

impl IntoResponses for PlaceBidErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let errors = all([
            any_key(),
            vec![
                ApiError::Forbidden("only bidders place bids"),
                ApiError::Forbidden("bidder_id is not this key's bidder"),
            ],
            json_body(validation("amount", "must be greater than 0")),
            vec![
                validation(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                ),
                ApiError::IdempotencyKeyReused,
                validation(
                    "Gavel-Deadline-Ms",
                    "must be a whole number from 1 to 60000",
                ),
                ApiError::DeadlineExceeded,
            ],
            refusals(),
        ]);
        let replayed: Vec<u16> = refusals().iter().map(|e| e.status().as_u16()).collect();
        responses(errors, &replayed)
    }
}

/// Why a well-formed bid is turned away: the answers an `Idempotency-Key` replays.
fn refusals() -> Vec<ApiError> {
    vec![
        ApiError::AuctionNotFound,
        ApiError::AuctionNotOpen(AuctionStatus::Closed),
        too_low(),
        ApiError::AlreadyBid,
    ]
}

/// The value of `Idempotent-Replayed`, sent only on a replayed answer.
#[derive(Debug, ToSchema)]
pub enum Replayed {
    /// The first answer to this `Idempotency-Key`, again.
    #[schema(rename = "true")]
    True,
}

/// `Problem`: an RFC 9457 problem document as `ApiError` renders it; `code` is one of the
/// table's codes.
pub fn problem_schema() -> RefOr<Schema> {
    let mut codes: Vec<&'static str> = Vec::new();
    for e in every_error() {
        if !codes.contains(&e.code()) {
            codes.push(e.code());
        }
    }
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .description(Some(
            "An RFC 9457 problem document (`application/problem+json`); `code` is stable and machine-readable",
        ))
        .property("type", string().enum_values(Some(["about:blank"])))
        .property("title", string().description(Some("The code's title")))
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(400))
                .maximum(Some(599)),
        )
        .property("code", string().enum_values(Some(codes)))
        .property("detail", string().description(Some("What went wrong, for people")))
        .property(
            "errors",
            ArrayBuilder::new()
                .items(Ref::from_schema_name(FieldError::name()))
                .description(Some("`validation_failed`: every field that breaks a rule")),
        )
        .property(
            "auction_status",
            AllOfBuilder::new()
                .item(Ref::from_schema_name(AuctionStatus::name()))
                .description(Some("`auction_not_open`, `invalid_state`: the auction's status")),
        )
        .property(
            "min_amount",
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(Ref::from_schema_name("Amount"))
                .description(Some(
                    "`bid_too_low`: the least amount that would be accepted; null when no amount the API accepts can win",
                )),
        )
        .required("type")
        .required("title")
        .required("status")
        .required("code")
        .required("detail")
        .into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_error_renders_a_problem_the_schema_accepts() {
        let doc = crate::http::openapi_document();
        let schema =
            json!({"$ref": "#/components/schemas/Problem", "components": doc["components"]});
        let problem = jsonschema::draft202012::new(&schema).unwrap();
        let mut codes = Vec::new();
        for e in every_error() {
            let body = e.problem_body();
            let errors: Vec<String> = problem.iter_errors(&body).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{body}: {errors:?}");
            assert_eq!(body["status"], e.status().as_u16(), "{body}");
            codes.push(e.code());
        }
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len(), "one of each error: {codes:?}");
    }
}
