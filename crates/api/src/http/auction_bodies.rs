//! The JSON of auctions served from memory, kept by the copy it was written from: a busy
//! auction is read far more often than it changes, and writing its JSON anew was a fifth
//! of what a `GET` of it cost.

use std::sync::RwLock;

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use gavel_domain::visibility::sees_highest;
use gavel_domain::{AuctionId, AuctionStatus, Viewer};
use gavel_service::{AuctionRead, CopyId};
use rustc_hash::FxHashMap;

use crate::http::error::ApiError;
use crate::http::views::AuctionView;

/// Bodies kept before they are all dropped (as many as the auctions kept in memory).
const MAX_BODIES: usize = 20_000;

/// One auction's body, and what it was written from: everything [`AuctionView::new`]
/// reads is fixed by the copy, the status and whether the highest bid shows.
struct Body {
    copy: CopyId,
    status: AuctionStatus,
    shows_highest: bool,
    json: Bytes,
}

/// The last body written for each auction read from memory.
#[derive(Default)]
pub struct AuctionBodies {
    /// By auction id, hashed with Fx: only auctions read from memory have a body.
    bodies: RwLock<FxHashMap<AuctionId, Body>>,
}

impl AuctionBodies {
    /// The auction as `viewer` sees it, as a `200` JSON response: the kept body when it
    /// was written from the same copy, for the same status and visibility.
    pub fn respond(&self, read: AuctionRead, viewer: Viewer) -> Result<Response, ApiError> {
        let a = &read.auction;
        let status = a.status();
        let shows_highest = sees_highest(viewer, a.kind, status);
        let id = a.id;
        let kept = read.copy.and_then(|copy| {
            let bodies = self.bodies.read().unwrap_or_else(|e| e.into_inner());
            bodies
                .get(&id)
                .filter(|b| b.copy == copy && b.status == status)
                .filter(|b| b.shows_highest == shows_highest)
                .map(|b| b.json.clone())
        });
        let json = match kept {
            Some(json) => json,
            None => {
                let copy = read.copy;
                let json = match serde_json::to_vec(&AuctionView::new(read.auction, viewer)) {
                    Ok(v) => Bytes::from(v),
                    // Only a map with non-string keys fails, and a view has none.
                    Err(e) => return Err(ApiError::internal(e)),
                };
                if let Some(copy) = copy {
                    self.keep(id, copy, status, shows_highest, json.clone());
                }
                json
            }
        };
        let content_type = HeaderValue::from_static("application/json");
        Ok(([(header::CONTENT_TYPE, content_type)], json).into_response())
    }

    fn keep(
        &self,
        id: AuctionId,
        copy: CopyId,
        status: AuctionStatus,
        shows_highest: bool,
        json: Bytes,
    ) {
        let mut bodies = self.bodies.write().unwrap_or_else(|e| e.into_inner());
        if bodies.len() >= MAX_BODIES && !bodies.contains_key(&id) {
            bodies.clear();
        }
        bodies.insert(
            id,
            Body {
                copy,
                status,
                shows_highest,
                json,
            },
        );
    }
}
