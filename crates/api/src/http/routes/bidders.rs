//! `POST/GET /api/bidders`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gavel_domain::{BidderId, NewBidderInput};

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::openapi::examples;
use crate::http::openapi::problems::{CreateBidderErrors, ListBiddersErrors};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::state::AppState;
use crate::http::views::{BidderPage, BidderView, CreatedBidderView};

/// `POST /api/bidders` (admin).
#[utoipa::path(
    post,
    path = "/api/bidders",
    tag = "bidders",
    operation_id = "createBidder",
    summary = "Create a bidder (admin)",
    description = "An exchange or seat. Its `api_key` and `webhook_secret` are in this answer only (stored as hashes).",
    security(("admin_token" = [])),
    request_body(content = NewBidderInput, example = json!(examples::new_bidder())),
    responses(
        (status = 201, description = "Created; the key and secret are shown this once", body = CreatedBidderView,
            example = json!(examples::created_bidder())),
        CreateBidderErrors,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    JsonBody(input): JsonBody<NewBidderInput>,
) -> Result<(StatusCode, Json<CreatedBidderView>), ApiError> {
    let created = state.services.create_bidder(input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// `GET /api/bidders` (admin).
#[utoipa::path(
    get,
    path = "/api/bidders",
    tag = "bidders",
    operation_id = "listBidders",
    summary = "List bidders (admin), newest first",
    description = "Never their keys or secrets.",
    security(("admin_token" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page", body = BidderPage, example = json!(examples::bidder_page())),
        ListBiddersErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<BidderPage>, ApiError> {
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
