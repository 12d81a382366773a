//! Auction events: an in-process hub per instance, fanned out to every instance
//! through Redis pub/sub. With Redis down, each instance still streams its own events.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gavel_domain::{AuctionEvent, AuctionId};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};

/// Events buffered per auction for a slow stream before it skips ahead.
const BUFFER: usize = 256;
/// Events waiting to be published to Redis before new ones are dropped (remote only).
const OUTBOX: usize = 16_384;
/// Recent events kept per auction for streams that reconnect (`Last-Event-ID`).
pub const REPLAY_EVENTS: usize = 64;
/// How long an auction's recent events are kept after its last one.
pub const REPLAY_TTL: Duration = Duration::from_secs(300);
/// Most auctions whose recent events are kept; past it the longest-quiet ones go first.
const REPLAY_AUCTIONS: usize = 10_000;

/// The wire form on Redis: the event and the instance that made it.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    origin: u64,
    event: AuctionEvent,
}

/// An auction's latest events, in sequence order, for streams that reconnect.
struct Recent {
    events: VecDeque<AuctionEvent>,
    touched: Instant,
    /// Its `closed` or `cancelled` event is among them: a stream opened now gets that
    /// event from the database anyway, so these go first when room is short.
    ended: bool,
}

/// What the hub guards with one lock, so a subscriber's replay and its live events
/// neither overlap nor leave a gap.
#[derive(Default)]
struct HubState {
    /// One broadcast channel per auction with open streams.
    channels: HashMap<AuctionId, broadcast::Sender<AuctionEvent>>,
    /// Recent events of every auction this instance heard of (its own and, through
    /// Redis, the other instances'), whether or not a stream watches it now.
    recent: HashMap<AuctionId, Recent>,
    /// When `recent` was last swept of quiet auctions.
    swept: Option<Instant>,
}

impl HubState {
    /// Keeps `event` among its auction's recent ones, in sequence order.
    fn remember(&mut self, event: &AuctionEvent) {
        let now = Instant::now();
        if self
            .swept
            .is_none_or(|t| now.duration_since(t) > REPLAY_TTL / 10)
        {
            self.swept = Some(now);
            self.recent
                .retain(|_, r| now.duration_since(r.touched) < REPLAY_TTL);
        }
        let id = event.auction_id();
        if !self.recent.contains_key(&id) && self.recent.len() >= REPLAY_AUCTIONS {
            self.make_room();
        }
        let recent = self.recent.entry(id).or_insert_with(|| Recent {
            events: VecDeque::new(),
            touched: now,
            ended: false,
        });
        recent.touched = now;
        recent.ended |= event.is_last();
        let seq = event.sequence();
        // Events from other instances may arrive a little out of order.
        let at = recent
            .events
            .iter()
            .rposition(|e| e.sequence() <= seq)
            .map_or(0, |i| i + 1);
        if at > 0 && recent.events[at - 1].sequence() == seq {
            return;
        }
        recent.events.insert(at, event.clone());
        if recent.events.len() > REPLAY_EVENTS {
            recent.events.pop_front();
        }
    }
}

impl HubState {
    /// Forgets a tenth of the auctions held, ended ones first, then the quietest: one
    /// pass per tenth, not one per new auction (short auctions arrive by the thousand).
    fn make_room(&mut self) {
        let mut order: Vec<(bool, Instant)> = self
            .recent
            .values()
            .map(|r| (!r.ended, r.touched))
            .collect();
        let cut = (REPLAY_AUCTIONS / 10).min(order.len() - 1);
        let (_, &mut limit, _) = order.select_nth_unstable(cut);
        self.recent.retain(|_, r| (!r.ended, r.touched) > limit);
    }
}

/// Per-instance fan-out of auction events to open streams.
pub struct EventHub {
    /// Channels and recent events.
    state: Mutex<HubState>,
    /// This instance, so it ignores its own events coming back from Redis.
    instance: u64,
    /// How this instance's envelopes begin on the wire (`{"origin":N,`): its own events
    /// coming back (all of them, on a lone instance) are passed over without being parsed.
    own_prefix: String,
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
        let instance = rand::random();
        Self {
            state: Mutex::default(),
            instance,
            own_prefix: format!("{{\"origin\":{instance},"),
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
    /// Events held from before subscribing that the stream asked for, in sequence order.
    pub replay: Vec<AuctionEvent>,
    /// The events, from the moment of subscribing.
    pub events: broadcast::Receiver<AuctionEvent>,
    hub: Arc<EventHub>,
    auction_id: AuctionId,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        // `events` is still alive here: it is the last receiver when the count is 1.
        if state
            .channels
            .get(&self.auction_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            state.channels.remove(&self.auction_id);
        }
    }
}

impl EventHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `auction_id`'s events after sequence `after`: those still held, then live ones.
    pub fn subscribe(self: &Arc<Self>, auction_id: AuctionId, after: u64) -> Subscription {
        let mut state = self.lock();
        let replay = state
            .recent
            .get(&auction_id)
            .map(|r| {
                r.events
                    .iter()
                    .filter(|e| e.sequence() > after)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let events = state
            .channels
            .entry(auction_id)
            .or_insert_with(|| broadcast::channel(BUFFER).0)
            .subscribe();
        Subscription {
            replay,
            events,
            hub: self.clone(),
            auction_id,
        }
    }

    /// Auctions with a channel (streams open on them), for tests and metrics.
    pub fn watched(&self) -> usize {
        self.lock().channels.len()
    }

    /// Auctions whose recent events are held for reconnecting streams.
    pub fn remembered(&self) -> usize {
        self.lock().recent.len()
    }

    /// Resolves when the hub is closed (shutdown).
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends every stream.
    pub fn close(&self) {
        let _ = self.closed.send(true);
    }

    /// Keeps an event for reconnecting streams and hands it to this instance's streams of
    /// its auction.
    fn deliver_local(&self, event: AuctionEvent) {
        let mut state = self.lock();
        state.remember(&event);
        let auction_id = event.auction_id();
        if let Some(tx) = state.channels.get(&auction_id) {
            if tx.send(event).is_err() {
                // Nobody listens any more.
                state.channels.remove(&auction_id);
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
        if raw.starts_with(&self.own_prefix) {
            return None;
        }
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

#[cfg(test)]
mod tests {
    use gavel_domain::{AuctionEvent, AuctionId};

    use super::*;

    fn event() -> AuctionEvent {
        AuctionEvent::Bid {
            auction_id: AuctionId::new(7).unwrap(),
            bid: None,
            bid_count: 3,
        }
    }

    #[tokio::test]
    async fn its_own_events_coming_back_are_passed_over_and_others_taken() {
        let hub = EventHub::default();
        let mut outbox = hub.take_outbox().unwrap();
        hub.publish(event());
        let own = outbox.recv().await.unwrap();
        assert!(own.starts_with(&hub.own_prefix), "{own}");
        assert!(hub.on_remote(&own).is_none());
        // The same event from another instance.
        let other = EventHub::default();
        let mut other_outbox = other.take_outbox().unwrap();
        other.publish(event());
        let theirs = other_outbox.recv().await.unwrap();
        assert_eq!(hub.on_remote(&theirs), Some(event()));
    }
}
