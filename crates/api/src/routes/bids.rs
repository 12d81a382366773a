//! `POST /api/bids`, `GET /api/auctions/{id}/bids` (and its older alias).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gavel_domain::{AuctionKind, AuctionStatus, Money};
use gavel_storage::{IdempotencyKey, Idempotent, PlacedBid, StorageError, StoredResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{Bidder, Caller};
use crate::error::{json_response, ApiError};
use crate::events::AuctionEvent;
use crate::extract::{JsonBody, PathId, QueryParams};
use crate::metrics;
use crate::pagination::{Page, PageQuery, Paged};
use crate::state::AppState;
use crate::views::BidView;

/// Header naming a retry-safe request.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Header marking a replayed first answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

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

/// `POST /api/bids` (bidder).
pub async fn place(
    State(state): State<AppState>,
    Bidder(bidder_id): Bidder,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBid>,
) -> Result<Response, ApiError> {
    if body.bidder_id.is_some_and(|id| id != bidder_id) {
        return Err(ApiError::Forbidden("bidder_id is not this key's bidder"));
    }
    if body.amount.is_zero() {
        return Err(ApiError::field("amount", "must be greater than 0"));
    }
    let key = idempotency_key(&headers)?;
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
        return Ok(accepted(&state, &body, placed).await.into_response());
    };
    let fingerprint = request_hash(&body, bidder_id);
    let outcome = state
        .storage
        .place_bid_idempotent(
            body.auction_id,
            bidder_id,
            body.amount,
            IdempotencyKey {
                key: &key,
                request_hash: &fingerprint,
            },
            first_answer,
        )
        .await?;
    match outcome {
        Idempotent::Fresh(Ok(placed)) => Ok(accepted(&state, &body, placed).await.into_response()),
        Idempotent::Fresh(Err(e)) => {
            record_rejection(&e);
            Err(e.into())
        }
        Idempotent::KeyReused => Err(ApiError::IdempotencyKeyReused),
        Idempotent::Replay(stored) => {
            let status = StatusCode::from_u16(stored.status)
                .map_err(|_| ApiError::Internal("stored status out of range".into()))?;
            let mut resp = json_response(status, &stored.body);
            resp.headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            Ok(resp)
        }
    }
}

/// The `Idempotency-Key` header, if any: 1..=255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let bytes = v.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
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

/// After a commit: raise the cache entry, answer 201.
async fn accepted(
    state: &AppState,
    body: &PlaceBid,
    placed: PlacedBid,
) -> (StatusCode, Json<BidView>) {
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
    (StatusCode::CREATED, Json(view))
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

/// `GET /api/auctions/{id}/bids` and `GET /api/bids/{auction_id}` (any key), newest first.
/// On sealed auctions a bidder sees only its own bids until the auction is closed.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PathId(auction_id): PathId,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<Paged<BidView>>, ApiError> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let auction = state.storage.get_auction(auction_id).await?;
    let only_bidder = match caller {
        Caller::Bidder(id)
            if auction.kind().is_sealed() && auction.status() != AuctionStatus::Closed =>
        {
            Some(id)
        }
        _ => None,
    };
    let rows = state
        .storage
        .list_bids(auction_id, only_bidder, page.fetch_limit(), page.before_id)
        .await?;
    Ok(Json(Paged::from_rows(
        page,
        rows,
        |b| b.id,
        |b| BidView::in_auction(b, &auction),
    )))
}
