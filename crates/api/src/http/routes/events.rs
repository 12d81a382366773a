//! `GET /api/auctions/{id}/events`: Server-Sent Events of one auction.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use gavel_domain::visibility::is_winning_when_placed;
use gavel_domain::{AuctionEvent, AuctionId, AuctionKind, AuctionStatus, Viewer};
use gavel_service::Caller;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::http::error::ApiError;
use crate::http::extract::PathId;
use crate::http::state::AppState;
use crate::http::views::{AuctionView, BidView};

/// Longest silence before a comment line keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/auctions/{id}/events` (any key): the auction and the stream limits are
/// checked before anything is subscribed; the stream ends after `closed` or `cancelled`.
#[utoipa::path(
    get,
    path = "/api/auctions/{id}/events",
    tag = "events",
    operation_id = "streamEvents",
    summary = "Server-Sent Events of one auction (any key)",
    description = "Events: `bid` (english: the Bid; sealed: `{auction_id, bid_count}`), `extended` (`{auction_id, ends_at}`), `closed` (the closed Auction), `cancelled` (the cancelled Auction); each has an `id:` that orders the auction's events. A comment line at least every 15 s keeps proxies from closing the stream; the stream ends after `closed` or `cancelled`. Bids accepted by any instance reach every instance's streams (through Redis).",
    security(("admin_token" = []), ("bidder_key" = [])),
    params(
        ("id" = AuctionId, Path, description = "The auction's id, canonical (no sign, no leading zero)"),
        ("Last-Event-ID" = Option<String>, Header, description = "On reconnecting: the `id:` of the last event received; the events after it that the server still holds are sent first"),
    ),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = String),
        crate::http::openapi::problems::AuctionErrors,
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<AuctionId>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let opened = state.services.open_stream(caller, id).await?;
    let closed = state.services.events.closed();
    let already_over = matches!(
        opened.auction.status(),
        AuctionStatus::Closed | AuctionStatus::Cancelled
    );
    let events = futures::stream::unfold(
        (opened, closed, already_over),
        |(mut opened, mut closed, over)| async move {
            if over || *closed.borrow() {
                return None;
            }
            loop {
                tokio::select! {
                    got = opened.subscription.events.recv() => match got {
                        Ok(ev) => {
                            let last = matches!(
                                ev,
                                AuctionEvent::Closed { .. } | AuctionEvent::Cancelled { .. }
                            );
                            let event = Event::default().event(ev.name()).data(render(ev).to_string());
                            return Some((Ok(event), (opened, closed, last)));
                        }
                        // A slow reader skips what it missed rather than holding others back.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    },
                    _ = closed.changed() => return None,
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// An event's data as the contract spells it; streams see what any bidder may.
fn render(event: AuctionEvent) -> Value {
    match event {
        AuctionEvent::Bid { bid: Some(bid), .. } => json!(BidView::new(
            bid,
            is_winning_when_placed(AuctionKind::English)
        )),
        AuctionEvent::Bid {
            auction_id,
            bid: None,
            bid_count,
        } => json!({"auction_id": auction_id, "bid_count": bid_count}),
        AuctionEvent::Extended {
            auction_id,
            ends_at,
        } => json!({
            "auction_id": auction_id,
            "ends_at": ends_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }),
        AuctionEvent::Closed { auction } | AuctionEvent::Cancelled { auction } => {
            json!(AuctionView::new(*auction, Viewer::Public))
        }
    }
}
