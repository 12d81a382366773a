//! The work every instance does besides answering requests: migrating, settling,
//! delivering win notices, relaying events between instances, probing Redis and tidying
//! up. Each loop runs until the shutdown signal flips; the work itself is a use case.

mod migrate;
mod relay;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::http::state::AppState;

/// How often Redis is probed, and migrations retried while PostgreSQL is away.
const PROBE_TICK: Duration = Duration::from_secs(1);
/// How often each instance looks for auctions to settle (settlement within 1 s of the end)
/// and for win notices due.
const SETTLE_TICK: Duration = Duration::from_millis(200);
/// How often old idempotency keys are pruned and in-memory limits tidied.
const HOUSEKEEPING_TICK: Duration = Duration::from_secs(600);

/// Starts every background loop.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    let services = &state.services;
    tokio::spawn(migrate::until_done(
        services.storage.clone(),
        PROBE_TICK,
        stop.clone(),
    ));
    tokio::spawn(every(
        SETTLE_TICK,
        stop.clone(),
        state.clone(),
        |s| async move {
            if s.services.storage.is_migrated() {
                s.services.settle_due().await;
            }
        },
    ));
    tokio::spawn(every(
        SETTLE_TICK,
        stop.clone(),
        state.clone(),
        |s| async move {
            if s.services.storage.is_migrated() {
                s.services.deliver_notices().await;
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
            s.services.cache.probe().await;
        },
    ));
    tokio::spawn(relay::publish(services.clone(), stop.clone()));
    tokio::spawn(relay::raises(services.clone(), stop.clone()));
    tokio::spawn(relay::fan_in(services.clone(), stop));
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

/// Prunes old idempotency keys and tidies in-memory limits.
async fn housekeeping(state: &AppState) {
    state.housekeeping();
    match state.services.storage.prune_idempotency_keys().await {
        Ok(n) if n > 0 => tracing::info!(pruned = n, "old idempotency keys pruned"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not prune idempotency keys"),
    }
}
