//! Liveness and readiness: `/health`, `/ready` and what `/ready` says of Redis.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, spawn_app, spawn_app_with, status_json, Options};

#[sqlx::test(migrations = "../../migrations")]
async fn health_and_ready(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (s, v) = status_json(app.get("/health", None).await).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
    let (s, v) = status_json(app.get("/ready", None).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ready");
    assert_eq!(v["dependencies"]["postgres"], "ok");
    assert_eq!(v["dependencies"]["redis"], "ok");
}

#[sqlx::test(migrations = "../../migrations")]
async fn ready_reports_redis_disabled_and_degraded(pool: PgPool) {
    let off = spawn_app_with(
        pool.clone(),
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await;
    let (_, v) = status_json(off.get("/ready", None).await).await;
    assert_eq!(v["dependencies"]["redis"], "disabled");
    let dead = spawn_app_with(
        pool,
        Options {
            redis_url: Some(common::DEAD_REDIS_URL.into()),
            ..Default::default()
        },
    )
    .await;
    // Reported as checked, from the very first request: never `ok` for a dead Redis.
    let (_, first) = status_json(dead.get("/ready", None).await).await;
    assert_eq!(first["dependencies"]["redis"], "degraded", "{first}");
    let mut seen = Value::Null;
    for _ in 0..30 {
        let (s, v) = status_json(dead.get("/ready", None).await).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "Redis down must not make the service unready"
        );
        seen = v["dependencies"]["redis"].clone();
        if seen == "degraded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "degraded");
}
