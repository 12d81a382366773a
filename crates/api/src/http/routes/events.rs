//! `GET /api/auctions/{id}/events`: Server-Sent Events of one auction.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;

/// Longest silence before a comment line keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/auctions/{id}/events` (any key).
pub async fn stream(
    State(state): State<AppState>,
    _: Caller,
    PathId(id): PathId,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before the existence check, so nothing between them is missed.
    let rx = state.events.subscribe(id);
    state.storage.get_auction(id).await?;
    let closed = state.events.closed();
    let events = futures::stream::unfold((rx, closed), |(mut rx, mut closed)| async move {
        loop {
            if *closed.borrow() {
                return None;
            }
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(ev) => {
                        let event = Event::default().event(ev.event).data(ev.data.to_string());
                        return Some((Ok(event), (rx, closed)));
                    }
                    // A slow reader skips what it missed rather than holding others back.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                _ = closed.changed() => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
