//! `/metrics`, open or behind its token.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::common::{spawn_app, spawn_app_with, Options};

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_are_open_or_behind_their_token(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.get("/health", None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("gavel_http_requests_total"), "{text}");

    let guarded = spawn_app_with(
        pool,
        Options {
            metrics_token: Some("metrics-secret".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        guarded.get("/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded.get("/metrics", Some("wrong")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded
            .get("/metrics", Some("metrics-secret"))
            .await
            .status(),
        StatusCode::OK
    );
}
