//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::http::state::AppState;
use crate::http::views::{Dependencies, HealthView, Live, PostgresState, Readiness, ReadyView};

/// Longest `/ready` waits on PostgreSQL.
const READY_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: the process serves; touches nothing.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    operation_id = "health",
    summary = "Liveness",
    description = "200 as soon as the process serves; no dependency is touched.",
    responses((status = 200, description = "The process serves", body = HealthView, example = json!({"status": "ok"})))
)]
pub async fn health() -> Json<HealthView> {
    Json(HealthView { status: Live::Ok })
}

/// `GET /ready`: 200 when PostgreSQL answers, with each dependency's state as checked by
/// this request (both checks are bounded: 2 s for PostgreSQL, the Redis call timeout).
#[utoipa::path(
    get,
    path = "/ready",
    tag = "ops",
    operation_id = "ready",
    summary = "Readiness",
    description = "Checks PostgreSQL and Redis now (Redis is `ok` only once it answered); `degraded` Redis still serves.",
    responses(
        (status = 200, description = "PostgreSQL answers", body = ReadyView,
            example = json!({"status": "ready", "dependencies": {"postgres": "ok", "redis": "ok"}})),
        (status = 503, description = "PostgreSQL does not answer", body = ReadyView,
            example = json!({"status": "unavailable", "dependencies": {"postgres": "down", "redis": "degraded"}})),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<ReadyView>) {
    // What was checked now, not a remembered state: Redis is `ok` only once it answered.
    let checked = state.services.ready(READY_DB_TIMEOUT).await;
    let (code, status, postgres) = if checked.postgres {
        (StatusCode::OK, Readiness::Ready, PostgresState::Ok)
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Readiness::Unavailable,
            PostgresState::Down,
        )
    };
    let dependencies = Dependencies {
        postgres,
        redis: checked.redis.into(),
    };
    (
        code,
        Json(ReadyView {
            status,
            dependencies,
        }),
    )
}
