//! `POST /api/bids`, `GET /api/auctions/{id}/bids` (and its older alias).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gavel_domain::visibility::is_winning_when_placed;
use gavel_domain::{AuctionId, AuctionKind, Bid, BidAmount, BidId, BidOutcome, BidRequest};
use gavel_service::{BidAnswer, Caller};
use serde::Deserialize;

use crate::http::auth::Bidder;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, PathId, QueryParams};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::state::AppState;
use crate::http::views::BidView;

/// Header naming a retry-safe request.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header marking a replayed first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Place-bid body.
#[derive(Debug, Deserialize)]
pub struct PlaceBid {
    /// Auction to bid on (an id that names no auction is `404`, not a field error).
    pub auction_id: i64,
    /// Amount above zero, as a string or an exact JSON number.
    pub amount: BidAmount,
    /// Optional; must be the key's own bidder.
    pub bidder_id: Option<i64>,
}

/// `POST /api/bids` (bidder): parse, place, render.
pub async fn place(
    State(state): State<AppState>,
    Bidder(bidder_id): Bidder,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBid>,
) -> Result<Response, ApiError> {
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
    match state.services.place_bid(req, key.as_deref()).await? {
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

/// `GET /api/auctions/{id}/bids` and `GET /api/bids/{auction_id}` (any key), newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PathId(auction_id): PathId<AuctionId>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<Paged<BidView>>, ApiError> {
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
