//! The work every instance does besides answering requests: migrating, settling,
//! delivering win notices, relaying events, probing Redis and tidying up. Each task runs
//! until the shutdown signal flips.

use std::future::Future;
use std::time::Duration;

use gavel_storage::Storage;
use tokio::sync::watch;

use crate::events::AuctionEvent;
use crate::state::AppState;
use crate::views::AuctionView;

/// How often Redis is probed, and migrations retried while PostgreSQL is away.
const PROBE_TICK: Duration = Duration::from_secs(1);
/// How often each instance looks for auctions to settle (settlement within 1 s of the end)
/// and for win notices due.
const SETTLE_TICK: Duration = Duration::from_millis(200);
/// Most auctions settled in one transaction.
const SETTLE_BATCH: i64 = 100;
/// How often old idempotency keys are pruned and in-memory limits tidied.
const HOUSEKEEPING_TICK: Duration = Duration::from_secs(600);

/// Starts every background task.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    tokio::spawn(migrate_until_done(state.storage.clone(), stop.clone()));
    tokio::spawn(every(
        SETTLE_TICK,
        stop.clone(),
        state.clone(),
        |s| async move { settle_round(&s).await },
    ));
    tokio::spawn(every(
        SETTLE_TICK,
        stop.clone(),
        state.clone(),
        |s| async move {
            if s.storage.is_migrated() {
                crate::webhooks::deliver_round(&s.storage, &s.http_client, &s.webhooks).await;
            }
        },
    ));
    tokio::spawn(every(
        HOUSEKEEPING_TICK,
        stop.clone(),
        state.clone(),
        |s| async move { housekeeping(&s).await },
    ));
    tokio::spawn(every(
        PROBE_TICK,
        stop.clone(),
        state.clone(),
        |s| async move {
            s.cache.probe().await;
        },
    ));
    tokio::spawn(crate::events::run_publisher(
        state.events.clone(),
        state.cache.clone(),
        stop.clone(),
    ));
    tokio::spawn(crate::events::run_fan_in(
        state.events.clone(),
        state.cache.clone(),
        stop,
    ));
}

/// Runs `work` every `period` until `stop` flips.
async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, state: AppState, work: F)
where
    F: Fn(AppState) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        work(state.clone()).await;
    }
}

/// Applies migrations, retrying until PostgreSQL answers (down at start-up is not fatal).
async fn migrate_until_done(storage: Storage, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        match storage.migrate().await {
            Ok(()) => {
                tracing::info!("database migrated and ready");
                return;
            }
            Err(e) => {
                if failures % 10 == 0 {
                    tracing::warn!(error = %e, "database not ready; retrying");
                }
                failures += 1;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(PROBE_TICK) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Prunes old idempotency keys and tidies in-memory limits.
async fn housekeeping(state: &AppState) {
    state.housekeeping();
    match state.storage.prune_idempotency_keys().await {
        Ok(n) if n > 0 => tracing::info!(pruned = n, "old idempotency keys pruned"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not prune idempotency keys"),
    }
}

/// Settles every auction past its end (in batches), then forgets their cache entries.
async fn settle_round(state: &AppState) {
    if !state.storage.is_migrated() {
        return;
    }
    loop {
        match state.storage.settle_due(SETTLE_BATCH).await {
            Ok(settled) => {
                let full = settled.len() as i64 == SETTLE_BATCH;
                for s in settled {
                    let auction_id = s.auction.id;
                    tracing::info!(
                        auction_id,
                        winner_bidder_id = s.auction.winner_bidder_id,
                        "auction settled"
                    );
                    state.cache.forget(auction_id).await;
                    if let Ok(data) = serde_json::to_value(AuctionView::public(s.auction)) {
                        state.events.publish(AuctionEvent {
                            auction_id,
                            event: "closed".into(),
                            data,
                        });
                    }
                }
                if !full {
                    return;
                }
            }
            Err(gavel_storage::StorageError::Unavailable) => return,
            Err(e) => {
                tracing::warn!(error = %e, "settlement round failed; retrying");
                return;
            }
        }
    }
}
