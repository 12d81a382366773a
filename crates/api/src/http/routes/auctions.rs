//! `POST/GET /api/auctions`, `GET /api/auctions/{id}`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use gavel_domain::{AuctionStatus, NewAuctionInput};
use gavel_storage::Storage;
use serde::Deserialize;

use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::pagination::{Page, Paged};
use crate::state::AppState;
use crate::views::AuctionView;

/// `POST /api/auctions` (admin).
pub async fn create(
    State(storage): State<Storage>,
    _: Admin,
    JsonBody(input): JsonBody<NewAuctionInput>,
) -> Result<(StatusCode, HeaderMap, Json<AuctionView>), ApiError> {
    let auction = input.validate(chrono::Utc::now())?;
    let record = storage.create_auction(&auction).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/auctions/{}", record.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Json(AuctionView::for_caller(record, Caller::Admin)),
    ))
}

/// Query string of the auction list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Page size.
    pub limit: Option<i64>,
    /// Opaque cursor.
    pub cursor: Option<String>,
    /// Only auctions of this status.
    pub status: Option<AuctionStatus>,
}

/// `GET /api/auctions` (any key), newest first.
pub async fn list(
    State(storage): State<Storage>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Paged<AuctionView>>, ApiError> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let rows = storage
        .list_auctions(q.status, page.fetch_limit(), page.before_id)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |a| a.id,
        |a| AuctionView::for_caller(a, caller),
    )))
}

/// `POST /api/auctions/{id}/cancel` (admin): scheduled or open auctions only.
pub async fn cancel(
    State(state): State<AppState>,
    _: Admin,
    PathId(id): PathId,
) -> Result<Json<AuctionView>, ApiError> {
    let record = state.storage.cancel_auction(id).await?;
    state.cache.forget(id).await;
    Ok(Json(AuctionView::for_caller(record, Caller::Admin)))
}

/// `GET /api/auctions/{id}` (any key).
pub async fn get(
    State(storage): State<Storage>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<AuctionView>, ApiError> {
    let record = storage.get_auction(id).await?;
    Ok(Json(AuctionView::for_caller(record, caller)))
}
