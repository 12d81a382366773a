//! Running the server: background tasks, listening, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use gavel_cache::Cache;
use gavel_storage::{PoolSettings, Storage};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{router, HttpOptions};
use crate::config::{ConfigError, Settings};
use crate::state::AppState;

/// How often Redis is probed, and migrations retried while PostgreSQL is away.
const BACKGROUND_TICK: Duration = Duration::from_secs(1);
/// How often each instance looks for auctions to settle (settlement within 1 s of the end).
const SETTLE_TICK: Duration = Duration::from_millis(200);
/// Most auctions settled in one transaction.
const SETTLE_BATCH: i64 = 100;
/// How often old idempotency keys are pruned and in-memory limits tidied.
const HOUSEKEEPING_TICK: Duration = Duration::from_secs(600);

/// Builds the state from settings: nothing connects yet.
pub fn build_state(settings: &Settings) -> Result<AppState, ConfigError> {
    let storage = Storage::connect_lazy(
        settings.database.clone(),
        &PoolSettings {
            max_connections: settings.db_max_connections,
            acquire_timeout: settings.db_acquire_timeout,
        },
    );
    let cache = match &settings.redis_url {
        None => Cache::disabled(),
        Some(url) => Cache::new(url, &settings.redis_prefix, settings.redis_timeout)
            .map_err(|_| ConfigError("REDIS_URL is not a valid redis:// URL".into()))?,
    };
    Ok(AppState::new(storage, cache, &settings.admin_token)
        .with_rate_limit(settings.rate_limit, settings.rate_burst)
        .with_metrics_token(settings.metrics_token.as_deref())
        .with_webhooks(settings.webhooks.clone()))
}

/// Starts the background work every instance runs: migrations (retried until
/// PostgreSQL answers) and the Redis health probe. Both stop when `stop` flips.
pub fn spawn_background(state: &AppState, stop: watch::Receiver<bool>) {
    let storage = state.storage.clone();
    let mut stop_m = stop.clone();
    tokio::spawn(async move {
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
                _ = tokio::time::sleep(BACKGROUND_TICK) => {}
                _ = stop_m.changed() => return,
            }
        }
    });
    let closer = state.clone();
    let mut stop_s = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SETTLE_TICK) => {}
                _ = stop_s.changed() => return,
            }
            settle_round(&closer).await;
        }
    });
    tokio::spawn(crate::events::run_publisher(
        state.events.clone(),
        state.cache.clone(),
        stop.clone(),
    ));
    tokio::spawn(crate::events::run_fan_in(
        state.events.clone(),
        state.cache.clone(),
        stop.clone(),
    ));
    let deliverer = state.clone();
    let mut stop_d = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SETTLE_TICK) => {}
                _ = stop_d.changed() => return,
            }
            if deliverer.storage.is_migrated() {
                crate::webhooks::deliver_round(
                    &deliverer.storage,
                    &deliverer.http_client,
                    &deliverer.webhooks,
                )
                .await;
            }
        }
    });
    let housekeeping = state.clone();
    let mut stop_h = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(HOUSEKEEPING_TICK) => {}
                _ = stop_h.changed() => return,
            }
            housekeeping.housekeeping();
            match housekeeping.storage.prune_idempotency_keys().await {
                Ok(n) if n > 0 => tracing::info!(pruned = n, "old idempotency keys pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not prune idempotency keys"),
            }
        }
    });
    let cache = state.cache.clone();
    let mut stop_c = stop;
    tokio::spawn(async move {
        loop {
            cache.probe().await;
            tokio::select! {
                _ = tokio::time::sleep(BACKGROUND_TICK) => {}
                _ = stop_c.changed() => return,
            }
        }
    });
}

/// Settles every auction past its end (in batches), then forgets their cache entries.
async fn settle_round(state: &AppState) {
    if !state.storage.is_migrated() {
        return;
    }
    loop {
        match state.storage.settle_due(SETTLE_BATCH).await {
            Ok(settled) => {
                for s in &settled {
                    tracing::info!(
                        auction_id = s.auction_id,
                        winner_bidder_id = s.winner_bidder_id,
                        "auction settled"
                    );
                    state.cache.forget(s.auction_id).await;
                    if let Ok(record) = state.storage.get_auction(s.auction_id).await {
                        let view = crate::views::AuctionView::for_caller(
                            record,
                            crate::auth::Caller::Bidder(0),
                        );
                        if let Ok(data) = serde_json::to_value(view) {
                            let event = crate::events::AuctionEvent {
                                auction_id: s.auction_id,
                                event: "closed".into(),
                                data,
                            };
                            state.events.publish(event);
                        }
                    }
                }
                if (settled.len() as i64) < SETTLE_BATCH {
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

/// Serves `state` on `listener` until `shutdown` resolves, then stops accepting,
/// lets in-flight requests finish for at most `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    http: HttpOptions,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _ = crate::metrics::handle();
    let (stop_tx, stop_rx) = watch::channel(false);
    spawn_background(&state, stop_rx.clone());
    let storage = state.storage.clone();
    let events = state.events.clone();
    let app = router(state, &http);
    let mut grace_rx = stop_rx;
    let signalled = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        // Event streams never finish by themselves: end them so shutdown is not held up.
        events.close();
        let _ = stop_tx.send(true);
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signalled);
    let deadline = async move {
        let _ = grace_rx.changed().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r?,
        _ = deadline => tracing::warn!("grace period over; dropping requests still in flight"),
    }
    // Returns connections to PostgreSQL politely; bounded so a dead database cannot hold us.
    let _ = tokio::time::timeout(Duration::from_secs(2), storage.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Binds the listener, or says which address could not be had.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ConfigError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| ConfigError(format!("cannot listen on {addr} (PORT/GAVEL_BIND): {e}")))
}
