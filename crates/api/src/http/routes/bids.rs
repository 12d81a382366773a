//! `POST /api/bids`, `GET /api/auctions/{id}/bids` (and its older alias).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gavel_domain::visibility::is_winning_when_placed;
use gavel_domain::{AuctionId, AuctionKind, Bid, BidAmount, BidId, BidOutcome, BidRequest};
use gavel_service::{BidAnswer, Caller};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::Bidder;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, PathId, QueryParams};
use crate::http::openapi::examples;
use crate::http::openapi::problems::{ListBidsErrors, PlaceBidErrors, Replayed};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::state::AppState;
use crate::http::views::{BidPage, BidView};

/// Header naming a retry-safe request.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header giving a bid's deadline in milliseconds from its arrival (OpenRTB's `tmax`).
pub const DEADLINE_MS: HeaderName = HeaderName::from_static("gavel-deadline-ms");
/// Header marking a replayed first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Place-bid body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewBid)]
pub struct PlaceBid {
    /// Auction to bid on (an id that names no auction is `404`, not a field error).
    #[schema(value_type = AuctionId)]
    pub auction_id: i64,
    /// Amount above zero, as a string or an exact JSON number.
    pub amount: BidAmount,
    /// Optional (the key decides who bids); a bidder other than the key's own is `403`.
    #[schema(value_type = Option<gavel_domain::BidderId>)]
    pub bidder_id: Option<i64>,
}

/// `POST /api/bids` (bidder): parse, place, render.
#[utoipa::path(
    post,
    path = "/api/bids",
    tag = "bids",
    operation_id = "placeBid",
    summary = "Place a bid (bidder)",
    description = "Decided atomically against every other bid on the auction, from any instance; a `201` is durable in PostgreSQL before it is sent. English: the first bid is at least `reserve_price`, later ones at least the highest + `min_increment`; a bid within `extend_secs` of the end moves the end. Sealed kinds: one bid per bidder, at least `reserve_price`.",
    security(("bidder_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "Makes the request retry-safe (scoped to the bidder, kept 24 h): a repeat with the same body gets the first answer again with `Idempotent-Replayed: true`; with another body, `422 idempotency_key_reused`"),
        ("Gavel-Deadline-Ms" = Option<u32>, Header, minimum = 1, maximum = 60000,
        description = "OpenRTB's `tmax`: a bid not decided within this many milliseconds of arriving is `503 deadline_exceeded` and never stored; one already committed is answered with its outcome, even late")),
    request_body(content = PlaceBid, examples(
        ("string" = (summary = "The amount as a string", value = json!(examples::new_bid()))),
        ("number" = (summary = "The amount as a JSON number, read from its digits", value = json!({"auction_id": 7, "amount": 25.05}))),
    )),
    responses(
        (status = 201, description = "Accepted", body = BidView,
            headers(("Idempotent-Replayed" = inline(Replayed), description = "Present (`true`) when this is the stored first answer to the same Idempotency-Key and body")),
            example = json!(examples::bid())),
        PlaceBidErrors,
    )
)]
pub async fn place(
    State(state): State<AppState>,
    Bidder(bidder_id): Bidder,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBid>,
) -> Result<Response, ApiError> {
    let arrived = std::time::Instant::now();
    let deadline = deadline_ms(&headers)?.map(|ms| arrived + std::time::Duration::from_millis(ms));
    if body.bidder_id.is_some_and(|id| id != bidder_id.get()) {
        return Err(ApiError::Forbidden("bidder_id is not this key's bidder"));
    }
    let auction_id = AuctionId::new(body.auction_id).ok_or(ApiError::AuctionNotFound)?;
    let key = idempotency_key(&headers)?;
    let req = BidRequest {
        auction_id,
        bidder_id,
        amount: body.amount,
    };
    match state
        .services
        .place_bid(req, key.as_deref(), deadline)
        .await?
    {
        BidAnswer::Placed(p) => Ok(created(p.bid, p.kind)),
        BidAnswer::Replayed(outcome) => {
            let mut resp = match outcome {
                BidOutcome::Accepted { bid, kind } => created(bid, kind),
                BidOutcome::Refused(r) => ApiError::from(r).into_response(),
            };
            resp.headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(resp)
        }
    }
}

/// The `201` of an accepted bid, fresh or replayed alike.
fn created(bid: Bid, kind: AuctionKind) -> Response {
    let view = BidView::new(bid, is_winning_when_placed(kind));
    (StatusCode::CREATED, Json(view)).into_response()
}

/// The `Idempotency-Key` header, if any: 1..=255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let bytes = v.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// The `Gavel-Deadline-Ms` header, if any: 1..=60000.
fn deadline_ms(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(v) = headers.get(DEADLINE_MS) else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|ms| (1..=60_000).contains(ms))
        .map(Some)
        .ok_or_else(|| {
            ApiError::field(
                "Gavel-Deadline-Ms",
                "must be a whole number from 1 to 60000",
            )
        })
}

/// `GET /api/auctions/{id}/bids` (any key), newest first.
#[utoipa::path(
    get,
    path = "/api/auctions/{id}/bids",
    tag = "bids",
    operation_id = "listBids",
    summary = "Bids of an auction (any key), newest first",
    description = "Admins see every bid; on english auctions every key sees every bid; on sealed auctions a bidder sees only its own bids until the auction is closed. `is_winning`: english, whether the bid is the highest; sealed, null until closed; once closed, whether it won.",
    security(("admin_token" = []), ("bidder_key" = [])),
    params(("id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)"), PageQuery),
    responses(
        (status = 200, description = "A page", body = BidPage, example = json!(examples::bid_page())),
        ListBidsErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PathId(auction_id): PathId<AuctionId>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<BidPage>, ApiError> {
    let page: Page<BidId> = Page::parse(q.limit, q.cursor.as_deref())?;
    let (auction, bids) = state
        .services
        .bids(caller, auction_id, page.fetch_limit(), page.before)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        bids,
        |b| b.id,
        |b| BidView::in_auction(b, &auction),
    )))
}

/// `GET /api/bids/{auction_id}` (any key): [`list`] under the older path.
#[utoipa::path(
    get,
    path = "/api/bids/{auction_id}",
    tag = "bids",
    operation_id = "listBidsOldPath",
    summary = "Bids of an auction, under the older path",
    description = "The same as `GET /api/auctions/{id}/bids`.",
    security(("admin_token" = []), ("bidder_key" = [])),
    params(("auction_id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)"), PageQuery),
    responses(
        (status = 200, description = "A page", body = BidPage, example = json!(examples::bid_page())),
        ListBidsErrors,
    )
)]
pub async fn list_old_path(
    state: State<AppState>,
    caller: Caller,
    auction_id: PathId<AuctionId>,
    query: QueryParams<PageQuery>,
) -> Result<Json<BidPage>, ApiError> {
    list(state, caller, auction_id, query).await
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn idempotency_keys_are_checked_not_trusted(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let Ok(value) = HeaderValue::from_bytes(&raw) else { return Ok(()) };
            let mut headers = HeaderMap::new();
            headers.insert(IDEMPOTENCY_KEY, value);
            match idempotency_key(&headers) {
                Ok(Some(key)) => {
                    proptest::prop_assert_eq!(key.as_bytes(), raw.as_slice());
                    proptest::prop_assert!(raw.len() <= 255 && raw.iter().all(|b| b.is_ascii_graphic()));
                }
                Ok(None) => proptest::prop_assert!(false, "a present header read as absent"),
                Err(ApiError::Validation(_)) => {}
                Err(other) => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }
}
