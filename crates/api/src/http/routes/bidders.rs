//! `POST/GET /api/bidders`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gavel_domain::{BidderId, NewBidderInput};

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::state::AppState;
use crate::http::views::{BidderView, CreatedBidderView};

/// `POST /api/bidders` (admin).
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(input): JsonBody<NewBidderInput>,
) -> Result<(StatusCode, Json<CreatedBidderView>), ApiError> {
    let created = state.services.create_bidder(input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// `GET /api/bidders` (admin).
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<Paged<BidderView>>, ApiError> {
    let page: Page<BidderId> = Page::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .services
        .bidders(page.fetch_limit(), page.before)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |b| b.id,
        BidderView::from,
    )))
}
