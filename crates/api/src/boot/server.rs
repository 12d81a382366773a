//! Running the server: background tasks, listening, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use gavel_cache::Cache;
use gavel_service::{ServiceSettings, Services};
use gavel_storage::{PoolSettings, Storage};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::boot::settings::{ConfigError, Settings};
use crate::http::state::{AppState, AppStateParts};
use crate::http::{router, HttpOptions};

/// Builds the state from settings: nothing connects yet.
pub fn build_state(settings: &Settings) -> Result<AppState, ConfigError> {
    let storage = Storage::connect_lazy(
        settings.database.0.clone(),
        &PoolSettings {
            max_connections: settings.db_max_connections,
            acquire_timeout: settings.db_acquire_timeout,
        },
    )
    .with_batching(settings.bid_batching);
    let cache = match &settings.redis {
        None => Cache::disabled(),
        Some(target) => Cache::connect(&target.0, &settings.redis_prefix, settings.redis_timeout)
            .map_err(|_| match target.0 {
            gavel_cache::RedisTarget::Direct(_) => {
                ConfigError("REDIS_URL is not a valid redis:// URL".into())
            }
            gavel_cache::RedisTarget::Sentinel { .. } => {
                ConfigError("GAVEL_REDIS_SENTINELS is not usable".into())
            }
        })?,
    };
    let services = Services::new(
        storage,
        cache,
        &settings.admin_token,
        ServiceSettings {
            webhooks: settings.webhooks.clone(),
            streams: settings.streams,
        },
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    Ok(AppStateParts::new(services)
        .with_rate_limit(settings.rate_limit, settings.rate_burst)
        .with_metrics_token(settings.metrics_token.as_ref())
        .into())
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
    let _ = crate::http::metrics::handle();
    let (stop_tx, stop_rx) = watch::channel(false);
    crate::workers::spawn_all(&state, stop_rx.clone());
    let services = state.services.clone();
    let app = router(state, &http);
    let mut grace_rx = stop_rx;
    let services_for_signal = services.clone();
    let signalled = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        // Event streams never finish by themselves: end them so shutdown is not held up.
        services_for_signal.close_streams();
        let _ = stop_tx.send(true);
    };
    let server = super::connections::serve(listener, app, http.connections, signalled);
    let deadline = async move {
        let _ = grace_rx.changed().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        _ = server => {}
        _ = deadline => tracing::warn!("grace period over; dropping requests still in flight"),
    }
    // Returns connections to PostgreSQL politely; bounded so a dead database cannot hold us.
    let _ = tokio::time::timeout(Duration::from_secs(2), services.close()).await;
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
