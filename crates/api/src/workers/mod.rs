//! The work every instance does besides answering requests: migrating, settling,
//! delivering win notices, relaying events between instances, probing Redis and tidying
//! up. Each loop runs until the shutdown signal flips; the work itself is a use case.

mod migrate;
mod relay;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gavel_service::Services;
use tokio::sync::watch;

use crate::http::state::AppState;

/// How often Redis is probed, and migrations retried while PostgreSQL is away.
const PROBE_TICK: Duration = Duration::from_secs(1);
/// How often each instance looks for win notices due.
const NOTICE_TICK: Duration = Duration::from_millis(200);
/// How often old idempotency keys are pruned and in-memory limits tidied.
const HOUSEKEEPING_TICK: Duration = Duration::from_secs(600);
/// How often the metrics recorder folds recorded samples (until then it holds every
/// sample, so without this memory grows with the request count), and the win-notice queue
/// is counted.
const METRICS_UPKEEP_TICK: Duration = Duration::from_secs(5);

/// Starts every background loop.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) {
    let services = &state.services;
    tokio::spawn(migrate::until_done(
        services.storage.clone(),
        PROBE_TICK,
        stop.clone(),
    ));
    tokio::spawn(closer(services.clone(), stop.clone()));
    tokio::spawn(every(
        NOTICE_TICK,
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
    tokio::spawn(every(
        METRICS_UPKEEP_TICK,
        stop.clone(),
        state.clone(),
        |s| async move {
            crate::http::metrics::handle().run_upkeep();
            if s.services.storage.is_migrated() {
                if let Ok(n) = s.services.storage.pending_notices().await {
                    metrics::gauge!("gavel_win_notices_pending").set(n as f64);
                }
            }
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

/// Settles auctions as they end: sleeps until the next end (at most a quarter second, so
/// auctions created elsewhere are seen), or until an auction is created here.
async fn closer(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        let nap = if services.storage.is_migrated() {
            services.settle_due().await;
            services.closer_nap().await
        } else {
            PROBE_TICK
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = services.closer_woken() => {}
            _ = stop.changed() => return,
        }
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
