//! Placing a bid: the Redis fast path, the atomic decision in PostgreSQL (with or without
//! an idempotency key), and what follows a commit (cache, metrics, event streams).

use axum::http::StatusCode;
use gavel_domain::{AuctionKind, Money};
use gavel_storage::{IdempotencyKey, Idempotent, PlacedBid, StorageError, StoredResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::events::AuctionEvent;
use crate::metrics;
use crate::state::AppState;
use crate::views::BidView;

/// Place-bid body.
#[derive(Debug, Deserialize)]
pub struct PlaceBid {
    /// Auction to bid on.
    pub auction_id: i64,
    /// Amount, as a string or an exact JSON number.
    pub amount: Money,
    /// Optional; must be the key's own bidder.
    pub bidder_id: Option<i64>,
}

/// How a bid was answered.
#[derive(Debug)]
pub enum BidAnswer {
    /// Accepted now.
    Accepted(BidView),
    /// A repeat of a keyed request: its stored first answer.
    Replayed(StoredResponse),
}

/// Places `body` for `bidder_id`, under `key` when the client sent an `Idempotency-Key`.
pub async fn place(
    state: &AppState,
    bidder_id: i64,
    body: &PlaceBid,
    key: Option<&str>,
) -> Result<BidAnswer, ApiError> {
    if body.auction_id <= 0 {
        return Err(ApiError::AuctionNotFound);
    }
    let Some(key) = key else {
        // The fast path answers only un-keyed bids: a keyed repeat must get its first answer.
        let now_ms = chrono::Utc::now().timestamp_millis();
        if let Some(too_low) = state
            .cache
            .check_bid(body.auction_id, body.amount, now_ms)
            .await
        {
            metrics::bid_outcome("fast_rejected");
            return Err(ApiError::BidTooLow {
                min_amount: too_low.min_amount.as_decimal(),
            });
        }
        let placed = state
            .storage
            .place_bid(body.auction_id, bidder_id, body.amount)
            .await
            .inspect_err(record_rejection)?;
        return Ok(BidAnswer::Accepted(accepted(state, body, placed).await));
    };
    let fingerprint = request_hash(body, bidder_id);
    let outcome = state
        .storage
        .place_bid_idempotent(
            body.auction_id,
            bidder_id,
            body.amount,
            IdempotencyKey {
                key,
                request_hash: &fingerprint,
            },
            first_answer,
        )
        .await?;
    match outcome {
        Idempotent::Fresh(Ok(placed)) => {
            Ok(BidAnswer::Accepted(accepted(state, body, placed).await))
        }
        Idempotent::Fresh(Err(e)) => {
            record_rejection(&e);
            Err(e.into())
        }
        Idempotent::KeyReused => Err(ApiError::IdempotencyKeyReused),
        Idempotent::Replay(stored) => Ok(BidAnswer::Replayed(stored)),
    }
}

/// The request as understood, so `"5"`, `5` and `"5.00"` are the same body.
fn request_hash(body: &PlaceBid, bidder_id: i64) -> Vec<u8> {
    let canonical = format!("{}|{}|{}", body.auction_id, body.amount, bidder_id);
    Sha256::digest(canonical.as_bytes()).to_vec()
}

/// The answer stored for a keyed bid; transient failures store nothing.
fn first_answer(outcome: &Result<PlacedBid, StorageError>) -> Option<StoredResponse> {
    match outcome {
        Ok(placed) => {
            let view = BidView::new(placed.bid.clone(), winning_flag(placed));
            Some(StoredResponse {
                status: StatusCode::CREATED.as_u16(),
                body: serde_json::to_value(view).ok()?,
            })
        }
        Err(StorageError::Domain(d)) => {
            let e = ApiError::from(d.clone());
            Some(StoredResponse {
                status: e.status().as_u16(),
                body: e.problem_body(),
            })
        }
        Err(StorageError::NotFound) => Some(StoredResponse {
            status: StatusCode::NOT_FOUND.as_u16(),
            body: ApiError::AuctionNotFound.problem_body(),
        }),
        Err(StorageError::Unavailable | StorageError::Internal(_)) => None,
    }
}

fn winning_flag(placed: &PlacedBid) -> Option<bool> {
    // An accepted english bid is the new highest; sealed bids are undecided until close.
    (placed.kind == AuctionKind::English).then_some(true)
}

fn record_rejection(e: &StorageError) {
    if let StorageError::Domain(d) = e {
        metrics::bid_outcome(ApiError::from(d.clone()).code());
    }
}

/// After a commit: raise the cache entry, count it, tell the streams.
async fn accepted(state: &AppState, body: &PlaceBid, placed: PlacedBid) -> BidView {
    if placed.kind == AuctionKind::English && placed.becomes_highest {
        if let Some(next_min) = body.amount.checked_add(placed.min_increment) {
            state
                .cache
                .record_highest(
                    body.auction_id,
                    body.amount,
                    next_min,
                    placed.ends_at.timestamp_millis(),
                )
                .await;
        }
    }
    metrics::bid_outcome("accepted");
    let is_winning = winning_flag(&placed);
    let view = BidView::new(placed.bid, is_winning);
    let news = placed_summary(&view, placed.kind, placed.bid_count, placed.new_ends_at);
    publish_bid(state, &news);
    view
}

/// What a bid tells the auction's streams.
struct BidNews {
    auction_id: i64,
    bid: serde_json::Value,
    extended_to: Option<chrono::DateTime<chrono::Utc>>,
}

fn placed_summary(
    view: &BidView,
    kind: AuctionKind,
    bid_count: i64,
    extended_to: Option<chrono::DateTime<chrono::Utc>>,
) -> BidNews {
    // Sealed auctions tell streams only that a bid came, never its amount or bidder.
    let bid = if kind.is_sealed() {
        serde_json::json!({"auction_id": view.auction_id, "bid_count": bid_count})
    } else {
        serde_json::to_value(view).unwrap_or_default()
    };
    BidNews {
        auction_id: view.auction_id,
        bid,
        extended_to,
    }
}

fn publish_bid(state: &AppState, news: &BidNews) {
    let event = AuctionEvent {
        auction_id: news.auction_id,
        event: "bid".into(),
        data: news.bid.clone(),
    };
    state.events.publish(event);
    if let Some(ends_at) = news.extended_to {
        let event = AuctionEvent {
            auction_id: news.auction_id,
            event: "extended".into(),
            data: serde_json::json!({
                "auction_id": news.auction_id,
                "ends_at": ends_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }),
        };
        state.events.publish(event);
    }
}
