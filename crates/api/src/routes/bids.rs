//! `POST /api/bids`, `GET /api/auctions/{id}/bids` (and its older alias).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gavel_domain::{AuctionKind, AuctionStatus, Money};
use serde::Deserialize;

use crate::auth::{Bidder, Caller};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::pagination::{Page, PageQuery, Paged};
use crate::state::AppState;
use crate::views::BidView;

/// Place-bid body.
#[derive(Debug, Deserialize)]
pub struct PlaceBid {
    /// Auction to bid on.
    pub auction_id: i64,
    /// Amount, as a string or an exact JSON number.
    pub amount: Money,
    /// Optional; must be the key's own bidder.
    pub bidder_id: Option<i64>,
}

/// `POST /api/bids` (bidder).
pub async fn place(
    State(state): State<AppState>,
    Bidder(bidder_id): Bidder,
    JsonBody(body): JsonBody<PlaceBid>,
) -> Result<(StatusCode, Json<BidView>), ApiError> {
    if body.bidder_id.is_some_and(|id| id != bidder_id) {
        return Err(ApiError::Forbidden("bidder_id is not this key's bidder"));
    }
    if body.amount.is_zero() {
        return Err(ApiError::field("amount", "must be greater than 0"));
    }
    if body.auction_id <= 0 {
        return Err(ApiError::AuctionNotFound);
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(too_low) = state
        .cache
        .check_bid(body.auction_id, body.amount, now_ms)
        .await
    {
        return Err(ApiError::BidTooLow {
            min_amount: too_low.min_amount.as_decimal(),
        });
    }
    let placed = state
        .storage
        .place_bid(body.auction_id, bidder_id, body.amount)
        .await?;
    if placed.kind == AuctionKind::English && placed.becomes_highest {
        if let Some(next_min) = body.amount.checked_add(placed.min_increment) {
            state
                .cache
                .record_highest(
                    body.auction_id,
                    body.amount,
                    next_min,
                    placed.ends_at.timestamp_millis(),
                )
                .await;
        }
    }
    let is_winning = (placed.kind == AuctionKind::English).then_some(true);
    Ok((
        StatusCode::CREATED,
        Json(BidView::new(placed.bid, is_winning)),
    ))
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
