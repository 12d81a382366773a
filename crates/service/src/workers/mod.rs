//! The work every instance does besides answering requests: migrating, settling,
//! delivering win notices, relaying events between instances, probing Redis and pruning
//! idempotency keys. Each loop runs until the stop signal flips.

mod migrate;
mod relay;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::Services;

/// How often Redis is probed, and migrations retried while PostgreSQL is away.
const PROBE_TICK: Duration = Duration::from_secs(1);
/// How often each instance looks for win notices due.
const NOTICE_TICK: Duration = Duration::from_millis(200);
/// How often old idempotency keys are pruned.
const PRUNE_TICK: Duration = Duration::from_secs(600);
/// How often the win-notice queue (all instances) is counted for the metrics.
const QUEUE_COUNT_TICK: Duration = Duration::from_secs(5);

impl Services {
    /// Starts every background loop of the use cases; each ends when `stop` flips.
    pub fn spawn_workers(self: &Arc<Self>, stop: watch::Receiver<bool>) {
        tokio::spawn(migrate::until_done(
            self.storage.clone(),
            PROBE_TICK,
            stop.clone(),
        ));
        tokio::spawn(closer(self.clone(), stop.clone()));
        tokio::spawn(sender(self.clone(), stop.clone()));
        tokio::spawn(recorder(self.clone(), stop.clone()));
        tokio::spawn(refresher(self.clone(), stop.clone()));
        tokio::spawn(every(
            PRUNE_TICK,
            stop.clone(),
            self.clone(),
            |s| async move {
                s.prune_and_log().await;
            },
        ));
        tokio::spawn(every(
            PROBE_TICK,
            stop.clone(),
            self.clone(),
            |s| async move {
                s.cache.probe().await;
            },
        ));
        tokio::spawn(every(
            QUEUE_COUNT_TICK,
            stop.clone(),
            self.clone(),
            |s| async move {
                if s.storage.is_migrated() {
                    if let Ok(n) = s.storage.pending_notices().await {
                        metrics::gauge!("gavel_win_notices_pending").set(n as f64);
                    }
                }
            },
        ));
        tokio::spawn(relay::publish(self.clone(), stop.clone()));
        tokio::spawn(relay::raises(self.clone(), stop.clone()));
        tokio::spawn(relay::fan_in(self.clone(), stop));
    }

    /// Deletes idempotency keys past their keeping time; returns how many went.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, crate::ServiceError> {
        Ok(self.storage.prune_idempotency_keys().await?)
    }

    /// Prunes idempotency keys, saying so in the log.
    async fn prune_and_log(&self) {
        match self.prune_idempotency_keys().await {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "old idempotency keys pruned"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not prune idempotency keys"),
        }
    }
}

/// Runs `work` every `period` until `stop` flips.
pub async fn every<S, F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, state: S, work: F)
where
    S: Clone,
    F: Fn(S) -> Fut,
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

/// Sends notices: at once those this instance's settlement queued (leased to it, so no
/// claim is needed), and at each tick the due ones (retries, other instances' notices,
/// cancellations), again without waiting while a whole batch was due.
async fn sender(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(NOTICE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let claim = tokio::select! {
            _ = tick.tick() => true,
            _ = services.notices_queued.notified() => false,
            _ = stop.changed() => return,
        };
        services.deliver_fresh_notices().await;
        if claim {
            while services.storage.is_migrated()
                && services.deliver_notices().await == crate::notices::BATCH as usize
            {}
        }
    }
}

/// Records the outcomes of fresh notices' attempts as they come, one statement at a time
/// (see [`Services::record_fresh_attempts`]); on stop, once more for those already made.
async fn recorder(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = services.attempts_queued() => {}
            _ = stop.changed() => {
                services.record_fresh_attempts().await;
                return;
            }
        }
        services.record_fresh_attempts().await;
    }
}

/// Keeps the auctions read often fresh in memory (see [`crate::board`]): waits for one to
/// be read again, then refreshes them as they come due until none is queued.
async fn refresher(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = services.board.rereads_queued() => {}
            _ = stop.changed() => return,
        }
        while let Some(next) = services.refresh_rereads().await {
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Settles auctions as they end: sleeps until the next end (at most a quarter second, so
/// auctions created elsewhere are seen), or until an auction is created here.
///
/// One is enough: it only claims, and tasks of their own settle what it claimed (see
/// [`Services::settle_due`]). Two used to take turns while each waited for its commit;
/// with the claim alone, a second measured no gain in rtb at 1,000 auctions a second
/// (settlement p99 18 to 31 ms with two against 12 to 30 with one, alternated).
async fn closer(services: Arc<Services>, mut stop: watch::Receiver<bool>) {
    loop {
        let nap = if services.storage.is_migrated() {
            let claimed = services.settle_due().await;
            services.closer_nap(claimed).await
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
