//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::http::state::AppState;

/// Longest `/ready` waits on PostgreSQL.
const READY_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: the process serves; touches nothing.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when PostgreSQL answers, with each dependency's state as checked by
/// this request (both checks are bounded: 2 s for PostgreSQL, the Redis call timeout).
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    // What was checked now, not a remembered state: Redis is `ok` only once it answered.
    let (pg, redis) = tokio::join!(
        tokio::time::timeout(READY_DB_TIMEOUT, state.services.storage.ping()),
        state.services.cache.probe()
    );
    let pg_ok = matches!(pg, Ok(Ok(())));
    let redis = redis.as_str();
    let (code, status) = if pg_ok {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        code,
        Json(json!({
            "status": status,
            "dependencies": {"postgres": if pg_ok { "ok" } else { "down" }, "redis": redis}
        })),
    )
}
