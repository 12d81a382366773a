//! `POST/GET /api/bidders`, `GET/PATCH /api/bidders/{id}`, and a bidder's keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gavel_domain::{BidderId, BidderPatchInput, NewBidderInput};
use gavel_service::bidders::MAX_EXPIRE_OTHERS_SECS;
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::extract::{parse_json, JsonBody, QueryParams, RawBody};
use crate::http::openapi::examples;
use crate::http::openapi::problems::{
    CreateBidderErrors, CreateKeyErrors, ListBiddersErrors, OneBidderErrors, UpdateBidderErrors,
};
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::state::AppState;
use crate::http::views::{
    BidderDetailView, BidderPage, BidderView, CreatedBidderView, CreatedKeyView,
};

/// A bidder id from the path; anything else names no bidder.
fn bidder_id(raw: &str) -> Result<BidderId, ApiError> {
    raw.parse().map_err(|_| ApiError::BidderNotFound)
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The change-bidder body: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = BidderChange)]
pub struct BidderChange {
    /// 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Where notices go; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// `active` or `disabled`.
    #[schema(value_type = Option<gavel_domain::BidderStatus>)]
    pub status: Option<String>,
    /// Bids a second per instance; `null`: the server's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000000)]
    pub rate_limit: Option<Option<i64>>,
}

/// The new-key body (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = NewKey)]
pub struct NewKey {
    /// Puts an expiry this many seconds from now on the bidder's other keys (0: at once).
    #[schema(minimum = 0, maximum = 2592000)]
    pub expire_others_in_secs: Option<i64>,
}

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

/// `GET /api/bidders/{id}` (admin): one bidder with its keys.
#[utoipa::path(
    get,
    path = "/api/bidders/{id}",
    tag = "bidders",
    operation_id = "getBidder",
    summary = "One bidder with its keys (admin)",
    description = "Its keys are listed by id and prefix (the first 8 characters), never the keys themselves.",
    security(("admin_token" = [])),
    params(("id" = BidderId, Path, description = "The bidder's id")),
    responses(
        (status = 200, description = "The bidder", body = BidderDetailView),
        OneBidderErrors,
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<BidderDetailView>, ApiError> {
    let (bidder, keys) = state.services.bidder(bidder_id(&id)?).await?;
    Ok(Json(BidderDetailView {
        bidder: bidder.into(),
        keys: keys.into_iter().map(Into::into).collect(),
    }))
}

/// `PATCH /api/bidders/{id}` (admin).
#[utoipa::path(
    patch,
    path = "/api/bidders/{id}",
    tag = "bidders",
    operation_id = "updateBidder",
    summary = "Change a bidder (admin)",
    description = "Only the fields sent change. A disabled bidder's keys are refused (`403 bidder_disabled`) by every instance within 5 s; its bids already placed stand. `rate_limit` overrides the server's default for this bidder, per instance.",
    security(("admin_token" = [])),
    params(("id" = BidderId, Path, description = "The bidder's id")),
    request_body(content = BidderChange),
    responses(
        (status = 200, description = "The bidder as changed", body = BidderView),
        UpdateBidderErrors,
    )
)]
pub async fn update(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<BidderChange>,
) -> Result<Json<BidderView>, ApiError> {
    let id = bidder_id(&id)?;
    let input = BidderPatchInput {
        name: change.name,
        webhook_url: change.webhook_url,
        status: change.status,
        rate_limit: change.rate_limit,
    };
    Ok(Json(state.services.update_bidder(id, input).await?.into()))
}

/// `POST /api/bidders/{id}/keys` (admin): a new key, shown once.
#[utoipa::path(
    post,
    path = "/api/bidders/{id}/keys",
    tag = "bidders",
    operation_id = "createBidderKey",
    summary = "A new API key for a bidder (admin)",
    description = "For rotation without downtime: make a new key, move the exchange to it, then revoke the old one or let it expire (`expire_others_in_secs`). The key is in this answer only.",
    security(("admin_token" = [])),
    params(("id" = BidderId, Path, description = "The bidder's id")),
    request_body(content = Option<NewKey>),
    responses(
        (status = 201, description = "Created; the key is shown this once", body = CreatedKeyView),
        CreateKeyErrors,
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    let id = bidder_id(&id)?;
    let new: NewKey = if body.iter().all(u8::is_ascii_whitespace) {
        NewKey::default()
    } else {
        parse_json(&body)?
    };
    let expire = match new.expire_others_in_secs {
        None => None,
        Some(s) if (0..=MAX_EXPIRE_OTHERS_SECS as i64).contains(&s) => {
            Some(std::time::Duration::from_secs(s as u64))
        }
        Some(_) => {
            return Err(ApiError::field(
                "expire_others_in_secs",
                format!("must be a whole number from 0 to {MAX_EXPIRE_OTHERS_SECS}"),
            ))
        }
    };
    let created = state.services.create_bidder_key(id, expire).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKeyView {
            key_id: created.key.key_id,
            api_key: created.api_key.expose_secret().to_string(),
            created_at: created.key.created_at,
        }),
    ))
}

/// `DELETE /api/bidders/{id}/keys/{key_id}` (admin): revoke a key.
#[utoipa::path(
    delete,
    path = "/api/bidders/{id}/keys/{key_id}",
    tag = "bidders",
    operation_id = "revokeBidderKey",
    summary = "Revoke a bidder's key (admin)",
    description = "Refused (`401`) by every instance within 5 s, with or without Redis.",
    security(("admin_token" = [])),
    params(
        ("id" = BidderId, Path, description = "The bidder's id"),
        ("key_id" = i64, Path, description = "The key's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        OneBidderErrors,
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    _: Admin,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = bidder_id(&id)?;
    let key_id: i64 = key_id.parse().map_err(|_| ApiError::BidderNotFound)?;
    state.services.revoke_bidder_key(id, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
