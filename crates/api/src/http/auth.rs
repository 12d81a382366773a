//! Who is calling: the admin, a bidder, or nobody.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::error::ApiError;
use crate::keys::{hash_token, hashes_equal};
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Holder of `GAVEL_ADMIN_TOKEN`.
    Admin,
    /// Holder of a bidder's API key.
    Bidder(i64),
}

impl Caller {
    /// True for the admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, Caller::Admin)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = identify(parts, state).await?;
        if let Caller::Bidder(id) = caller {
            state
                .check_rate(id)
                .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        }
        Ok(caller)
    }
}

/// Who the bearer token belongs to.
async fn identify(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let hash = hash_token(token);
    if hashes_equal(&hash, &state.admin_token_hash) {
        return Ok(Caller::Admin);
    }
    if let Some(id) = state.memo_get(&hash) {
        return Ok(Caller::Bidder(id));
    }
    match state.storage.find_bidder_by_key_hash(&hash).await? {
        Some((id, stored)) if hashes_equal(&stored, &hash) => {
            state.memo_put(hash, id);
            Ok(Caller::Bidder(id))
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// The admin, or `403`.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(Admin),
            Caller::Bidder(_) => Err(ApiError::Forbidden("this route is for the admin")),
        }
    }
}

/// A bidder (its id), or `403`.
#[derive(Debug, Clone, Copy)]
pub struct Bidder(pub i64);

impl FromRequestParts<AppState> for Bidder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Bidder(id) => Ok(Bidder(id)),
            Caller::Admin => Err(ApiError::Forbidden("only bidders place bids")),
        }
    }
}
