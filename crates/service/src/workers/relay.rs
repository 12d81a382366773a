//! Relaying between this instance and Redis: auction events to and from the other
//! instances, and the fast path's raises.

use std::sync::Arc;

use crate::Services;
use tokio::sync::watch;

/// Most events sent to Redis in one round trip.
const PUBLISH_BATCH: usize = 256;

/// Publishes this instance's queued events to Redis, in order and in pipelined batches,
/// until `stop` flips.
pub async fn publish(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    let Some(mut rx) = services.events.take_outbox() else {
        return;
    };
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, PUBLISH_BATCH) => {
                if n == 0 {
                    return;
                }
                services.cache.publish_many(&batch).await;
                batch.clear();
            }
            _ = stop.changed() => return,
        }
    }
}

/// Hands every instance's events from Redis to this instance until `stop` flips.
pub async fn fan_in(services: Arc<Services>, stop: watch::Receiver<bool>) {
    let cache = services.cache.clone();
    cache
        .run_subscriber(move |raw| services.on_remote_event(&raw), stop)
        .await;
}

/// Sends queued fast-path raises to Redis as they come, until `stop` flips.
pub async fn raises(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = services.raises.wait() => services.raises.flush(&services.cache).await,
            _ = stop.changed() => return,
        }
    }
}
