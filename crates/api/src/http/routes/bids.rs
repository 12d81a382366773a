//! `POST /api/bids`, `GET /api/auctions/{id}/bids` (and its older alias).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gavel_domain::AuctionStatus;

use crate::auth::{Bidder, Caller};
use crate::bidding::{self, BidAnswer, PlaceBid};
use crate::error::{json_response, ApiError};
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::pagination::{Page, PageQuery, Paged};
use crate::state::AppState;
use crate::views::BidView;

/// Header naming a retry-safe request.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header marking a replayed first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// `POST /api/bids` (bidder): parse, place, map.
pub async fn place(
    State(state): State<AppState>,
    Bidder(bidder_id): Bidder,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBid>,
) -> Result<Response, ApiError> {
    if body.bidder_id.is_some_and(|id| id != bidder_id) {
        return Err(ApiError::Forbidden("bidder_id is not this key's bidder"));
    }
    if body.amount.is_zero() {
        return Err(ApiError::field("amount", "must be greater than 0"));
    }
    let key = idempotency_key(&headers)?;
    match bidding::place(&state, bidder_id, &body, key.as_deref()).await? {
        BidAnswer::Accepted(view) => Ok((StatusCode::CREATED, Json(view)).into_response()),
        BidAnswer::Replayed(stored) => {
            let status = StatusCode::from_u16(stored.status)
                .map_err(|_| ApiError::Internal("stored status out of range".into()))?;
            let mut resp = json_response(status, &stored.body);
            resp.headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(resp)
        }
    }
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
/// On sealed auctions a bidder sees only its own bids until the auction is closed.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PathId(auction_id): PathId,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<Paged<BidView>>, ApiError> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let auction = state.storage.get_auction(auction_id).await?;
    let only_bidder = match caller {
        Caller::Bidder(id)
            if auction.kind().is_sealed() && auction.status() != AuctionStatus::Closed =>
        {
            Some(id)
        }
        _ => None,
    };
    let rows = state
        .storage
        .list_bids(auction_id, only_bidder, page.fetch_limit(), page.before_id)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |b| b.id,
        |b| BidView::in_auction(b, &auction),
    )))
}
