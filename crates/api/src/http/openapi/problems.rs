//! The error responses of the document, derived from the one error table: each route lists
//! the errors it can answer as `ApiError` values, and their status, code, title, extra
//! members, headers and example bodies are read from what `ApiError` itself renders.

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use gavel_domain::{AuctionStatus, FieldError, Money};
use rust_decimal::Decimal;
use serde_json::Value;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

use crate::http::error::ApiError;
use crate::http::openapi::PROBLEM_JSON;

/// The members every problem document has; any other member is an error's extra.
const BASE_MEMBERS: [&str; 5] = ["type", "title", "status", "code", "detail"];

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
            Timeout | DatabaseUnavailable | Internal(_) => {}
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
    /// `GET /api/auctions/{id}/bids` and `GET /api/bids/{auction_id}`.
    ListBidsErrors => all([any_key(), paged(), vec![ApiError::AuctionNotFound]]);
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

/// The `Idempotent-Replayed` header.
fn replayed_header() -> Header {
    HeaderBuilder::new()
        .schema(Replayed::schema())
        .description(Some(
            "Present (`true`) when this is the stored first answer to the same Idempotency-Key and body",
        ))
        .build()
}

/// The responses of `errors`, one per status, each listing its codes; those with a status
/// in `replayed` may be a replay.
fn responses(errors: Vec<ApiError>, replayed: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ApiError>> = BTreeMap::new();
    for e in errors {
        by_status.entry(e.status().as_u16()).or_default().push(e);
    }
    let shared = shared_responses();
    by_status
        .into_iter()
        .map(|(status, errors)| {
            let mut r = response(status, errors);
            if replayed.contains(&status) {
                r.headers
                    .insert("Idempotent-Replayed".into(), replayed_header());
            }
            let name = shared_name(status);
            let r = match shared.get(&name) {
                Some(s) if s == &r => Ref::new(format!("#/components/responses/{name}")).into(),
                _ => r.into(),
            };
            (status.to_string(), r)
        })
        .collect()
}

/// The responses that every route taking a key shares (`401`, `429`, `500`, `503`), kept
/// once under `components/responses` and referred to.
pub fn shared_responses() -> BTreeMap<String, Response> {
    let mut by_status: BTreeMap<u16, Vec<ApiError>> = BTreeMap::new();
    for e in any_key() {
        by_status.entry(e.status().as_u16()).or_default().push(e);
    }
    by_status
        .into_iter()
        .map(|(status, errors)| (shared_name(status), response(status, errors)))
        .collect()
}

/// A shared response's name: its status's reason phrase (`TooManyRequests`).
fn shared_name(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .replace(' ', "")
}

/// One status's response: its codes (each with its title and extra members), the headers
/// they carry, and an example body of each, as rendered by `ApiError`.
fn response(status: u16, errors: Vec<ApiError>) -> Response {
    let mut kinds: Vec<Kind> = Vec::new();
    let mut examples = Vec::new();
    let mut headers = BTreeMap::new();
    for e in errors {
        let body = e.problem_body();
        let kind = Kind::of(&body);
        let name = match kinds.iter().filter(|k| k.code == kind.code).count() {
            0 => kind.code.clone(),
            n => format!("{}_{}", kind.code, n + 1),
        };
        examples.push((
            name,
            ExampleBuilder::new()
                .summary(e.to_string())
                .value(Some(body))
                .build(),
        ));
        for name in e.into_response().headers().keys() {
            if name != header::CONTENT_TYPE {
                headers
                    .entry(header_name(name.as_str()))
                    .or_insert_with(|| error_header(name.as_str()).unwrap_or_default());
            }
        }
        if !kinds.iter().any(|k| k.code == kind.code) {
            kinds.push(kind);
        }
    }
    let description = kinds
        .iter()
        .map(Kind::describe)
        .collect::<Vec<_>>()
        .join("; ");
    let content = ContentBuilder::new()
        .schema(Some(narrowed(status, &kinds)))
        .examples_from_iter(examples)
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    for (name, h) in headers {
        response = response.header(name, h);
    }
    response.build()
}

/// A code as one status of a route answers it.
struct Kind {
    code: String,
    title: String,
    extras: Vec<String>,
}

impl Kind {
    fn of(body: &Value) -> Self {
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
        let extras = body
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| !BASE_MEMBERS.contains(&k.as_str()))
            .cloned()
            .collect();
        Kind {
            code: text("code"),
            title: text("title"),
            extras,
        }
    }

    fn describe(&self) -> String {
        if self.extras.is_empty() {
            format!("`{}`", self.code)
        } else {
            format!("`{}` (with `{}`)", self.code, self.extras.join("`, `"))
        }
    }

    /// This code's title and extra members.
    fn schema(&self) -> ObjectBuilder {
        let mut o = ObjectBuilder::new()
            .property("code", one_string(&self.code))
            .property("title", one_string(&self.title));
        for extra in &self.extras {
            o = o.required(extra);
        }
        o
    }
}

/// A string that is `value`.
fn one_string(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

/// `Problem`, narrowed to this response's status and codes.
fn narrowed(status: u16, kinds: &[Kind]) -> RefOr<Schema> {
    let status = ObjectBuilder::new().property(
        "status",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([status])),
    );
    let codes: RefOr<Schema> = match kinds {
        [one] => one.schema().into(),
        many => many
            .iter()
            .fold(OneOfBuilder::new(), |o, k| o.item(k.schema()))
            .into(),
    };
    AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(status)
        .item(codes)
        .into()
}

/// A header's name as the contract writes it (`http` keeps names in lower case).
fn header_name(lower: &str) -> String {
    match lower {
        "retry-after" => "Retry-After".into(),
        "www-authenticate" => "WWW-Authenticate".into(),
        other => other.into(),
    }
}

/// The schema of a header an error response carries (a test checks each is known).
fn error_header(name: &str) -> Option<Header> {
    let header = match name {
        "retry-after" => HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Seconds to wait before retrying"))
            .build(),
        "www-authenticate" => HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["Bearer"])),
            )
            .description(Some("The scheme to authenticate with"))
            .build(),
        _ => return None,
    };
    Some(header)
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

    #[test]
    fn every_header_an_error_sends_is_described() {
        for e in every_error() {
            let code = e.code();
            for name in e.into_response().headers().keys() {
                if name != header::CONTENT_TYPE {
                    assert!(error_header(name.as_str()).is_some(), "{code}: {name}");
                }
            }
        }
    }
}
