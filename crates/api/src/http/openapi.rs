//! The OpenAPI 3.1 document, generated from the code: each handler carries its own
//! `#[utoipa::path]`, the router registers every handler together with it (`routes!` in
//! `http::routes`), bodies are the real input and view types, and error responses come
//! from the one error table (`problems`). This module holds the frame around the paths.

pub mod examples;
pub mod problems;

use gavel_domain::openapi::AmountInput;
use gavel_domain::{
    AuctionId, AuctionKind, AuctionStatus, BidAmount, BidId, BidderId, FieldError, HighestBid,
    Money, NoticeState,
};
use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, PathItem, RefOr};
use utoipa::{Modify, OpenApi as _};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What the document says before any route.
const DESCRIPTION: &str = "Real-time-bidding auction backend.

- JSON in and out; times are RFC 3339 in UTC; ids are positive 64-bit integers, written canonically in paths (`+7`, `07`, `abc` name no auction: `404 auction_not_found`).
- Money is a decimal, never a float: at most 14 integer and 4 fractional digits. Responses give amounts as strings (`\"12.50\"`); requests may send a string or a JSON number, read from its digits. More precision is refused, never rounded.
- Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`.
- Auth is `Authorization: Bearer <token>`: the admin token, a bidder's API key, or the metrics token. No or an unknown token: `401` with `WWW-Authenticate: Bearer`; the wrong role: `403`.
- Every response carries `X-Request-Id`: the client's own (at most 128 visible ASCII characters) or a fresh one.
- Lists are newest first, by cursor: `?limit=1..500` (default 50) and `?cursor=` from the previous page's `next_cursor`.";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "gavel", description = DESCRIPTION),
    components(schemas(
        AuctionId, BidderId, BidId, Money, AmountInput, BidAmount, AuctionKind, AuctionStatus,
        NoticeState, HighestBid, FieldError,
    )),
    modifiers(&Frame)
)]
struct Base;

/// The bearer schemes and the `Problem` schema, which derives cannot say.
struct Frame;

impl Modify for Frame {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, what) in [
            (ADMIN, "`GAVEL_ADMIN_TOKEN`: the admin"),
            (BIDDER, "A bidder's `api_key` (from `POST /api/bidders`)"),
            (
                METRICS,
                "`GAVEL_METRICS_TOKEN`, required by `GET /metrics` only when it is set",
            ),
        ] {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(what))
                .build();
            components.add_security_scheme(name, SecurityScheme::Http(scheme));
        }
        components
            .schemas
            .insert("Problem".into(), problems::problem_schema());
        for (name, response) in problems::shared_responses() {
            components.responses.insert(name, response.into());
        }
    }
}

/// The admin token's security scheme.
pub const ADMIN: &str = "admin_token";
/// A bidder key's security scheme.
pub const BIDDER: &str = "bidder_key";
/// The metrics token's security scheme.
pub const METRICS: &str = "metrics_token";

/// The document's frame, before routes add their paths: info, security schemes, and the
/// schemas the error responses refer to.
pub fn base() -> OpenApi {
    Base::openapi()
}

/// The document as served: `X-Request-Id` added to every response (every response
/// carries one), then as JSON with the headers that every response documenting them
/// carries marked `required` (utoipa 5's `Header` cannot say it), so a checker can hold
/// the server to them.
pub fn finish(mut doc: OpenApi) -> Value {
    let request_id = HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[!-~]{1,128}$")),
        )
        .description(Some("The request's id: the client's own, or a fresh one"))
        .build();
    let shared = doc
        .components
        .iter_mut()
        .flat_map(|c| c.responses.values_mut());
    let own = doc
        .paths
        .paths
        .values_mut()
        .flat_map(operations)
        .flat_map(|op| op.responses.responses.values_mut());
    for response in shared.chain(own) {
        // A reference's target gets the header where it is defined.
        if let RefOr::T(response) = response {
            response
                .headers
                .insert("X-Request-Id".into(), request_id.clone());
        }
    }
    let mut json = serde_json::to_value(&doc).unwrap_or_default();
    // Header values are text, never JSON null (utoipa makes `Option<String>` nullable).
    for param in parameters_mut(&mut json) {
        if param["in"] == "header" {
            if let Some(types) = param["schema"]["type"].as_array_mut() {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    param["schema"]["type"] = only.clone();
                }
            }
        }
    }
    for response in responses_mut(&mut json) {
        let headers = response.get_mut("headers").and_then(Value::as_object_mut);
        for (name, header) in headers.into_iter().flatten() {
            if ALWAYS_SENT.contains(&name.as_str()) {
                header["required"] = Value::Bool(true);
            }
        }
    }
    json
}

/// The headers present on every response that documents them.
const ALWAYS_SENT: [&str; 4] = [
    "X-Request-Id",
    "Location",
    "WWW-Authenticate",
    "Retry-After",
];

/// Every response object of a JSON document: the shared ones and each operation's own.
fn responses_mut(doc: &mut Value) -> Vec<&mut Value> {
    let mut found = Vec::new();
    let Some(doc) = doc.as_object_mut() else {
        return found;
    };
    for (key, part) in doc.iter_mut() {
        let maps: Vec<&mut Value> = match key.as_str() {
            "components" => part.get_mut("responses").into_iter().collect(),
            "paths" => part
                .as_object_mut()
                .into_iter()
                .flat_map(|paths| paths.values_mut())
                .filter_map(Value::as_object_mut)
                .flat_map(|item| item.values_mut())
                .filter_map(|op| op.get_mut("responses"))
                .collect(),
            _ => Vec::new(),
        };
        for map in maps {
            found.extend(map.as_object_mut().into_iter().flat_map(|m| m.values_mut()));
        }
    }
    found
}

/// Every operation's parameters in a JSON document.
fn parameters_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
        .flatten()
}

/// Every operation of a path item.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
