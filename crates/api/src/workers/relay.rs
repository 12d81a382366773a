//! Relaying auction events between instances through Redis pub/sub.

use std::sync::Arc;

use gavel_cache::Cache;
use gavel_service::EventHub;
use tokio::sync::watch;

/// Publishes this instance's queued events to Redis, in order, until `stop` flips.
pub async fn publish(hub: Arc<EventHub>, cache: Cache, mut stop: watch::Receiver<bool>) {
    let Some(mut rx) = hub.take_outbox() else {
        return;
    };
    loop {
        tokio::select! {
            next = rx.recv() => match next {
                Some(text) => cache.publish(text).await,
                None => return,
            },
            _ = stop.changed() => return,
        }
    }
}

/// Hands every instance's events from Redis to `hub` until `stop` flips.
pub async fn fan_in(hub: Arc<EventHub>, cache: Cache, stop: watch::Receiver<bool>) {
    cache
        .run_subscriber(move |raw| hub.on_remote(&raw), stop)
        .await;
}
