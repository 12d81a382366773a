//! Auction events: an in-process hub per instance, fanned out to every instance
//! through Redis pub/sub. With Redis down, each instance still streams its own events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gavel_domain::{AuctionEvent, AuctionId};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};

/// Events buffered per auction for a slow stream before it skips ahead.
const BUFFER: usize = 256;
/// Events waiting to be published to Redis before new ones are dropped (remote only).
const OUTBOX: usize = 16_384;

/// The wire form on Redis: the event and the instance that made it.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    origin: u64,
    event: AuctionEvent,
}

/// Per-instance fan-out of auction events to open streams.
pub struct EventHub {
    /// One broadcast channel per auction with open streams.
    channels: Mutex<HashMap<AuctionId, broadcast::Sender<AuctionEvent>>>,
    /// This instance, so it ignores its own events coming back from Redis.
    instance: u64,
    /// Flips once on shutdown, ending every stream.
    closed: watch::Sender<bool>,
    /// Events for other instances, published in order by one task so bids never wait
    /// on Redis.
    outbox: mpsc::Sender<String>,
    /// The other end of `outbox`, taken by the relay worker.
    outbox_rx: Mutex<Option<mpsc::Receiver<String>>>,
}

impl Default for EventHub {
    fn default() -> Self {
        let (outbox, rx) = mpsc::channel(OUTBOX);
        Self {
            channels: Mutex::default(),
            instance: rand::random(),
            closed: watch::channel(false).0,
            outbox,
            outbox_rx: Mutex::new(Some(rx)),
        }
    }
}

/// A stream's hold on one auction's events; when the last one of an auction is dropped,
/// the auction's channel goes too, so memory follows the streams open, not the auctions
/// ever watched.
pub struct Subscription {
    /// The events, from the moment of subscribing.
    pub events: broadcast::Receiver<AuctionEvent>,
    hub: Arc<EventHub>,
    auction_id: AuctionId,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut map = self.hub.channels.lock().unwrap_or_else(|e| e.into_inner());
        // `events` is still alive here: it is the last receiver when the count is 1.
        if map
            .get(&self.auction_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            map.remove(&self.auction_id);
        }
    }
}

impl EventHub {
    /// `auction_id`'s events from now on.
    pub fn subscribe(self: &Arc<Self>, auction_id: AuctionId) -> Subscription {
        let mut map = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let events = map
            .entry(auction_id)
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe();
        Subscription {
            events,
            hub: self.clone(),
            auction_id,
        }
    }

    /// Auctions with a channel (streams open on them), for tests and metrics.
    pub fn watched(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Resolves when the hub is closed (shutdown).
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends every stream.
    pub fn close(&self) {
        let _ = self.closed.send(true);
    }

    /// Hands an event to this instance's streams of its auction.
    fn deliver_local(&self, event: AuctionEvent) {
        let mut map = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        let auction_id = event.auction_id();
        if let Some(tx) = map.get(&auction_id) {
            if tx.send(event).is_err() {
                // Nobody listens any more.
                map.remove(&auction_id);
            }
        }
    }

    /// Delivers locally at once and queues the event for the other instances.
    pub fn publish(&self, event: AuctionEvent) {
        let envelope = Envelope {
            origin: self.instance,
            event,
        };
        if let Ok(text) = serde_json::to_string(&envelope) {
            if self.outbox.try_send(text).is_err() {
                tracing::warn!("event outbox full; an event reaches this instance's streams only");
            }
        }
        self.deliver_local(envelope.event);
    }

    /// Takes an event published by any instance; delivers those of other instances to
    /// this instance's streams and returns them (`None` for this instance's own).
    pub fn on_remote(&self, raw: &str) -> Option<AuctionEvent> {
        match serde_json::from_str::<Envelope>(raw) {
            Ok(env) if env.origin != self.instance => {
                self.deliver_local(env.event.clone());
                Some(env.event)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable event from redis");
                None
            }
        }
    }

    /// The queue of events for other instances; the first caller (the relay worker) gets it.
    pub fn take_outbox(&self) -> Option<mpsc::Receiver<String>> {
        self.outbox_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}
