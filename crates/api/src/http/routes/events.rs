//! `GET /api/auctions/{id}/events`: Server-Sent Events of one auction.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use gavel_domain::visibility::is_winning_when_placed;
use gavel_domain::{AuctionEvent, AuctionId, AuctionKind, Viewer};
use gavel_service::streams::EventStream;
use gavel_service::Caller;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::http::error::ApiError;
use crate::http::extract::{LastEventId, PathId};
use crate::http::state::AppState;
use crate::http::views::{AuctionView, BidView};

/// Longest silence before a comment line keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a client should wait before reconnecting a dropped stream (`retry:`).
const RETRY: Duration = Duration::from_secs(2);

/// `GET /api/auctions/{id}/events` (any key): the auction and the stream limits are
/// checked before anything is subscribed. Every event carries its sequence as `id`; a
/// client reconnecting with `Last-Event-ID` first gets the events it missed that are still
/// held, then live ones. The stream ends after `closed` or `cancelled`.
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
        ("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,19}$", description = "On reconnecting: the `id:` of the last event received; the events after it that the server still holds are sent first"),
    ),
    responses(
        (status = 200, description = "The event stream; its schema is that of each event", content_type = "text/event-stream", body = StreamEvent),
        crate::http::openapi::problems::StreamErrors,
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<AuctionId>,
    LastEventId(last): LastEventId,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let mut opened = state.services.open_stream(caller, id, last).await?;
    let feed = Feed {
        replay: std::mem::take(&mut opened.subscription.replay).into(),
        shutdown: state.services.streams_closing(),
        hinted: false,
        ended: false,
        opened,
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One event of the stream as a client reads it (the document's schema of each event).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct StreamEvent {
    /// The event's name.
    #[schema(pattern = "^(bid|extended|closed|cancelled)$")]
    event: String,
    /// JSON: a Bid, `{auction_id, bid_count}`, `{auction_id, ends_at}` or an Auction.
    data: String,
    /// The event's place in the auction's story; send it back as `Last-Event-ID`.
    #[schema(pattern = "^[0-9]{1,19}$")]
    id: String,
    /// Milliseconds to wait before reconnecting (the stream's first block).
    retry: Option<u64>,
}

/// One stream's progress: the retry hint, then held events, then live ones.
struct Feed {
    opened: EventStream,
    replay: VecDeque<AuctionEvent>,
    shutdown: watch::Receiver<bool>,
    hinted: bool,
    ended: bool,
}

impl Feed {
    /// The next SSE event, or `None` once the auction is over or the server stops.
    async fn next(&mut self) -> Option<Event> {
        if self.ended || *self.shutdown.borrow() {
            return None;
        }
        if !self.hinted {
            self.hinted = true;
            return Some(Event::default().retry(RETRY));
        }
        if let Some(ev) = self.replay.pop_front() {
            return Some(self.send(ev));
        }
        if AuctionEvent::ending(&self.opened.auction).is_some() {
            return None;
        }
        loop {
            tokio::select! {
                got = self.opened.subscription.events.recv() => match got {
                    // Held back by another instance's delay: the client has it already.
                    Ok(ev) if ev.sequence() <= self.opened.after => continue,
                    Ok(ev) => return Some(self.send(ev)),
                    // A slow reader skips what it missed rather than holding others back.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                _ = self.shutdown.changed() => return None,
            }
        }
    }

    fn send(&mut self, ev: AuctionEvent) -> Event {
        self.ended = ev.is_last();
        Event::default()
            .id(ev.sequence().to_string())
            .event(ev.name())
            .data(render(ev).to_string())
    }
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
            ..
        } => json!({
            "auction_id": auction_id,
            "ends_at": gavel_domain::time::rfc3339_millis(&ends_at),
        }),
        AuctionEvent::Closed { auction } | AuctionEvent::Cancelled { auction } => {
            json!(AuctionView::new(*auction, Viewer::Public))
        }
    }
}
