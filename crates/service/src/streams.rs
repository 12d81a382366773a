//! Event streams: opening one (the caller and the auction checked first, then the limits)
//! and the limits themselves, per key and per instance, as explicit counters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gavel_domain::{Auction, AuctionEvent, AuctionId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Caller;
use crate::events::Subscription;
use crate::{ServiceError, Services};

/// How many streams may be open.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// On this instance.
    pub per_instance: usize,
    /// For one key (the admin token counts as one key).
    pub per_key: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            per_instance: 10_000,
            per_key: 100,
        }
    }
}

/// The open streams, counted.
pub struct StreamLimits {
    settings: StreamSettings,
    instance: Arc<Semaphore>,
    per_key: Mutex<HashMap<Caller, usize>>,
}

impl StreamLimits {
    /// Limits as `settings` says.
    pub fn new(settings: StreamSettings) -> Arc<Self> {
        Arc::new(Self {
            settings,
            instance: Arc::new(Semaphore::new(settings.per_instance.max(1))),
            per_key: Mutex::default(),
        })
    }

    /// Streams open now on this instance.
    pub fn open(&self) -> usize {
        self.settings
            .per_instance
            .max(1)
            .saturating_sub(self.instance.available_permits())
    }

    /// A place for one more stream of `caller`, or which limit it hit.
    fn take(self: &Arc<Self>, caller: Caller) -> Result<StreamPermit, ServiceError> {
        let instance = self
            .instance
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::TooManyStreams { per_key: false })?;
        let mut keys = self.per_key.lock().unwrap_or_else(|e| e.into_inner());
        let n = keys.entry(caller).or_default();
        if *n >= self.settings.per_key {
            return Err(ServiceError::TooManyStreams { per_key: true });
        }
        *n += 1;
        Ok(StreamPermit {
            _instance: instance,
            limits: self.clone(),
            caller,
        })
    }
}

/// One open stream's place; given back when the stream ends.
pub struct StreamPermit {
    _instance: OwnedSemaphorePermit,
    limits: Arc<StreamLimits>,
    caller: Caller,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut keys = self
            .limits
            .per_key
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = keys.get_mut(&self.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                keys.remove(&self.caller);
            }
        }
    }
}

/// An open stream: the auction as it was when opened, and its events from then on.
pub struct EventStream {
    /// The auction when the stream opened.
    pub auction: Auction,
    /// The sequence the stream starts after: live events up to it are not news.
    pub after: u64,
    /// Its events.
    pub subscription: Subscription,
    /// The stream's place within the limits.
    pub permit: StreamPermit,
}

impl Services {
    /// Opens a stream of `auction_id`'s events for `caller`: the auction must exist, and
    /// the caller and the instance must be within their stream limits. The stream starts
    /// after sequence `last_event_id` (a reconnecting client's) or else after what the
    /// auction as read already shows; events since then that are still held come first.
    /// An auction already over gets its ending event, unless the client had it.
    pub async fn open_stream(
        &self,
        caller: Caller,
        auction_id: AuctionId,
        last_event_id: Option<u64>,
    ) -> Result<EventStream, ServiceError> {
        let auction = self.auction(auction_id).await?;
        let permit = self.streams.take(caller)?;
        let after = last_event_id.unwrap_or_else(|| AuctionEvent::seen_sequence(&auction));
        let mut subscription = self.events.subscribe(auction_id, after);
        if let Some(end) = AuctionEvent::ending(&auction) {
            if end.sequence() > after && !subscription.replay.iter().any(AuctionEvent::is_last) {
                subscription.replay.push(end);
            }
        }
        Ok(EventStream {
            auction,
            after,
            subscription,
            permit,
        })
    }
}
