//! `POST/GET /api/auctions`, `GET /api/auctions/{id}`, `POST /api/auctions/{id}/cancel`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use gavel_domain::{AuctionId, AuctionStatus, NewAuctionInput, Viewer};
use gavel_service::Caller;
use serde::Deserialize;

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, PathId, QueryParams};
use crate::http::pagination::{Page, Paged};
use crate::http::state::AppState;
use crate::http::views::AuctionView;

/// `POST /api/auctions` (admin).
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(input): JsonBody<NewAuctionInput>,
) -> Result<(StatusCode, HeaderMap, Json<AuctionView>), ApiError> {
    let auction = state.services.create_auction(input).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/auctions/{}", auction.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Json(AuctionView::new(auction, Viewer::Admin)),
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
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<Paged<AuctionView>>, ApiError> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .services
        .auctions(q.status, page.fetch_limit(), page.before)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |a| a.id,
        |a| AuctionView::new(a, caller.viewer()),
    )))
}

/// `POST /api/auctions/{id}/cancel` (admin): scheduled or open auctions only.
pub async fn cancel(
    State(state): State<AppState>,
    _: Admin,
    PathId(id): PathId<AuctionId>,
) -> Result<Json<AuctionView>, ApiError> {
    let auction = state.services.cancel_auction(id).await?;
    Ok(Json(AuctionView::new(auction, Viewer::Admin)))
}

/// `GET /api/auctions/{id}` (any key).
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<AuctionId>,
) -> Result<Json<AuctionView>, ApiError> {
    let auction = state.services.auction(id).await?;
    Ok(Json(AuctionView::new(auction, caller.viewer())))
}
