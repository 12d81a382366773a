//! Extractors for who is calling: any key, the admin, or a bidder.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use gavel_domain::BidderId;
use gavel_service::Caller;

use crate::http::error::ApiError;
use crate::http::state::AppState;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let who = state.services.identify(token).await?;
        if let Caller::Bidder(id) = who.caller {
            state
                .check_rate(id, who.rate_limit)
                .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
        }
        Ok(who.caller)
    }
}

/// The bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
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
pub struct Bidder(pub BidderId);

impl FromRequestParts<AppState> for Bidder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Bidder(id) => Ok(Bidder(id)),
            Caller::Admin => Err(ApiError::Forbidden("only bidders place bids")),
        }
    }
}
