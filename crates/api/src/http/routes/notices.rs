//! `GET /api/auctions/{id}/notices` (admin): the win and loss notices owed for an auction
//! and where each delivery stands (the console shows them under the result).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use gavel_domain::{AuctionId, BidderId, NoticeState, SentNotice};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::PathId;
use crate::http::openapi::problems::AuctionNoticesErrors;
use crate::http::state::AppState;

/// One notice and its delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SentNotice)]
pub struct NoticeView {
    /// `auction.won` or `auction.lost`.
    #[schema(pattern = "^auction\\.(won|lost)$")]
    pub event: &'static str,
    /// The id receivers dedupe on.
    pub notice_id: String,
    /// The bidder told.
    pub bidder_id: BidderId,
    /// `pending`, `delivered` or `failed`.
    pub state: NoticeState,
    /// Attempts made.
    pub attempts: i32,
    /// The last failed attempt's reason, or null.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// When it was delivered, or null.
    #[schema(required = true)]
    #[serde(serialize_with = "crate::http::views::ts_opt")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// A loss notice's OpenRTB reason (102 outbid, 2 cancelled, 100 below the floor); null
    /// for a win.
    #[schema(required = true)]
    pub loss_reason: Option<i16>,
}

/// The notices of one auction.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NoticeList)]
pub struct NoticeList {
    /// The win first, then losses by bidder.
    pub items: Vec<NoticeView>,
}

impl From<SentNotice> for NoticeView {
    fn from(n: SentNotice) -> Self {
        Self {
            event: n.event,
            notice_id: n.notice_id,
            bidder_id: n.bidder_id,
            state: n.state,
            attempts: n.attempts,
            last_error: n.last_error,
            delivered_at: n.delivered_at,
            loss_reason: n.loss_reason.map(|r| r.code()),
        }
    }
}

/// `GET /api/auctions/{id}/notices` (admin).
#[utoipa::path(
    get,
    path = "/api/auctions/{id}/notices",
    tag = "auctions",
    operation_id = "auctionNotices",
    summary = "The notices of an auction and their delivery (admin)",
    description = "Win and loss notices owed once the auction closed or was cancelled; empty before.",
    security(("admin_token" = [])),
    params(("id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)")),
    responses(
        (status = 200, description = "Its notices", body = NoticeList),
        AuctionNoticesErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    PathId(id): PathId<AuctionId>,
) -> Result<Json<NoticeList>, ApiError> {
    let items = state.services.notices_of(id).await?;
    Ok(Json(NoticeList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}
