//! `POST/GET /api/auctions`, `GET /api/auctions/{id}`, `POST /api/auctions/{id}/cancel`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use gavel_domain::{AuctionId, AuctionStatus, NewAuctionInput, Viewer};
use gavel_service::Caller;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, PathId, QueryParams};
use crate::http::openapi::examples;
use crate::http::openapi::problems::{
    AuctionErrors, CancelAuctionErrors, CreateAuctionErrors, ListAuctionsErrors,
};
use crate::http::pagination::{Page, Paged};
use crate::http::state::AppState;
use crate::http::views::{AuctionPage, AuctionView};

/// `POST /api/auctions` (admin).
#[utoipa::path(
    post,
    path = "/api/auctions",
    tag = "auctions",
    operation_id = "createAuction",
    summary = "Create an auction (admin)",
    description = "Every field rule is checked at once: a `422` lists each broken one. `ends_at` must be after `starts_at` and at most 30 days after it; `min_increment` and `extend_secs` apply to english auctions only.",
    security(("admin_token" = [])),
    request_body(content = NewAuctionInput, example = json!(examples::new_auction())),
    responses(
        (status = 201, description = "Created (as the admin sees it)", body = AuctionView,
            headers(("Location" = String, description = "The auction's path: `/api/auctions/{id}`")),
            example = json!(examples::auction())),
        CreateAuctionErrors,
    )
)]
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// Opaque cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only auctions of this status (by the database clock).
    #[param(inline)]
    pub status: Option<AuctionStatus>,
}

/// `GET /api/auctions` (any key), newest first.
#[utoipa::path(
    get,
    path = "/api/auctions",
    tag = "auctions",
    operation_id = "listAuctions",
    summary = "List auctions (any key), newest first",
    description = "Sealed auctions show `highest_bid` to the admin only until closed.",
    security(("admin_token" = []), ("bidder_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page", body = AuctionPage, example = json!(examples::auction_page())),
        ListAuctionsErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<AuctionPage>, ApiError> {
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
#[utoipa::path(
    post,
    path = "/api/auctions/{id}/cancel",
    tag = "auctions",
    operation_id = "cancelAuction",
    summary = "Cancel a scheduled or open auction (admin)",
    description = "Streams of the auction get `cancelled` and end. Once it is closing, closed or cancelled: `409 invalid_state`.",
    security(("admin_token" = [])),
    params(("id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)")),
    responses(
        (status = 200, description = "Cancelled", body = AuctionView, example = json!(examples::cancelled_auction())),
        CancelAuctionErrors,
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    _: Admin,
    PathId(id): PathId<AuctionId>,
) -> Result<Json<AuctionView>, ApiError> {
    let auction = state.services.cancel_auction(id).await?;
    Ok(Json(AuctionView::new(auction, Viewer::Admin)))
}

/// `GET /api/auctions/{id}` (any key).
#[utoipa::path(
    get,
    path = "/api/auctions/{id}",
    tag = "auctions",
    operation_id = "getAuction",
    summary = "One auction (any key)",
    description = "Reflects every bid this instance committed before the request arrived, and bids committed through other instances within 100 ms.",
    security(("admin_token" = []), ("bidder_key" = [])),
    params(("id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)")),
    responses(
        (status = 200, description = "The auction", body = AuctionView, examples(
            ("open" = (summary = "An open english auction", value = json!(examples::auction()))),
            ("closed" = (summary = "A closed auction and its winner", value = json!(examples::closed_auction()))),
        )),
        AuctionErrors,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<AuctionId>,
) -> Result<Response, ApiError> {
    let read = state.services.auction_read(id).await?;
    state.auction_bodies.respond(read, caller.viewer())
}
