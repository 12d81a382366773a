//! `POST/GET /api/bidders`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gavel_domain::FieldError;
use gavel_storage::{NewBidder, Storage};
use serde::Deserialize;

use crate::auth::Admin;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::keys::{hash_token, new_api_key, new_webhook_secret};
use crate::pagination::{Page, PageQuery, Paged};
use crate::views::{BidderView, CreatedBidderView};

/// Longest bidder name, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Longest webhook URL, in bytes.
const MAX_URL_LEN: usize = 2048;

/// Create-bidder body.
#[derive(Debug, Deserialize)]
pub struct CreateBidder {
    /// Display name.
    pub name: Option<String>,
    /// Where win notices go.
    pub webhook_url: Option<String>,
}

/// Checks the input, makes a key and a webhook secret, stores the bidder.
/// Shared by the HTTP route and `gavel bidder create`.
pub async fn create_bidder(
    storage: &Storage,
    input: CreateBidder,
) -> Result<CreatedBidderView, ApiError> {
    let mut errors = Vec::new();
    let name = input.name.as_deref().unwrap_or("").trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("name", "is required"));
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    let webhook_url = input.webhook_url.filter(|u| !u.trim().is_empty());
    if let Some(u) = &webhook_url {
        let ok = u.len() <= MAX_URL_LEN
            && url::Url::parse(u)
                .map(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
                .unwrap_or(false);
        if !ok {
            errors.push(FieldError::new(
                "webhook_url",
                "must be an absolute http:// or https:// URL",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let api_key = new_api_key();
    let webhook_secret = new_webhook_secret();
    let hash = hash_token(&api_key);
    let record = storage
        .create_bidder(NewBidder {
            name: &name,
            webhook_url: webhook_url.as_deref(),
            api_key_hash: &hash,
            webhook_secret: &webhook_secret,
        })
        .await?;
    Ok(CreatedBidderView {
        bidder: record.into(),
        api_key,
        webhook_secret,
    })
}

/// `POST /api/bidders` (admin).
pub async fn create(
    State(storage): State<Storage>,
    _: Admin,
    JsonBody(input): JsonBody<CreateBidder>,
) -> Result<(StatusCode, Json<CreatedBidderView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_bidder(&storage, input).await?),
    ))
}

/// `GET /api/bidders` (admin).
pub async fn list(
    State(storage): State<Storage>,
    _: Admin,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<Paged<BidderView>>, ApiError> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let rows = storage
        .list_bidders(page.fetch_limit(), page.before_id)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |b| b.id,
        BidderView::from,
    )))
}
