//! Raising the Redis fast path's entries after commits, off the request path: raises are
//! coalesced per auction (only the highest matters) and sent in one pipelined round trip.

use std::collections::HashMap;
use std::sync::Mutex;

use gavel_cache::{Cache, HighestRaise};
use gavel_domain::AuctionId;
use tokio::sync::Notify;

/// Raises waiting to be sent.
#[derive(Default)]
pub struct Raises {
    pending: Mutex<HashMap<AuctionId, HighestRaise>>,
    wake: Notify,
}

impl Raises {
    /// Queues a raise, keeping only the highest per auction, and wakes the sender.
    pub fn push(&self, r: HighestRaise) {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(&r.auction_id) {
            Some(cur) if cur.amount >= r.amount => {
                cur.ends_at_ms = cur.ends_at_ms.max(r.ends_at_ms)
            }
            _ => {
                map.insert(r.auction_id, r);
            }
        }
        drop(map);
        self.wake.notify_one();
    }

    /// Waits until a raise is queued.
    pub async fn wait(&self) {
        self.wake.notified().await;
    }

    /// Sends everything queued, in one round trip.
    pub async fn flush(&self, cache: &Cache) {
        let batch: Vec<HighestRaise> = {
            let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            map.drain().map(|(_, r)| r).collect()
        };
        cache.record_highest_many(&batch).await;
    }
}
