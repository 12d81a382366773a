//! What the HTTP layers add: request ids, compression, CORS, request timeouts.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{counted, spawn_app, spawn_app_with, status_json, Options, ADMIN_TOKEN};

#[sqlx::test(migrations = "../../migrations")]
async fn request_ids_are_taken_or_made(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app.get("/health", None).await;
    let made = r.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert!(made.len() >= 16);
    let r = app
        .client
        .get(format!("{}/health", app.url))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "abc-123");
}

#[sqlx::test(migrations = "../../migrations")]
async fn responses_are_compressed_when_asked(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..20 {
        app.create_auction(json!({"title": format!("auction number {i}")}))
            .await;
    }
    let encoding = |path: &'static str| {
        let r = app
            .client
            .get(format!("{}{path}", app.url))
            .bearer_auth(ADMIN_TOKEN)
            .header("accept-encoding", "gzip")
            .send();
        async move {
            let r = r.await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            r.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string())
        }
    };
    assert_eq!(encoding("/api/auctions").await.as_deref(), Some("gzip"));
    assert_eq!(encoding("/openapi.json").await.as_deref(), Some("gzip"));
    // A single object is not worth compressing (see `http::routes`).
    assert_eq!(encoding("/api/auctions/1").await, None);
}

#[sqlx::test(migrations = "../../migrations")]
async fn cors_allows_only_listed_origins(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        Options {
            http: gavel_api::HttpOptions {
                cors: gavel_api::http::cors::CorsOrigins::List(
                    vec!["https://admin.example".into()],
                ),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/auctions", app.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://admin.example").await.unwrap();
    assert_eq!(
        ok.headers().get("access-control-allow-origin").unwrap(),
        "https://admin.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let open = spawn_app_with(
        pool,
        Options {
            http: gavel_api::HttpOptions {
                cors: gavel_api::http::cors::CorsOrigins::Any,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let r = open
        .client
        .get(format!("{}/health", open.url))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[sqlx::test(migrations = "../../migrations")]
async fn slow_requests_time_out_as_problems(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        Options {
            http: gavel_api::HttpOptions {
                // Long enough for the set-up requests on a busy machine.
                request_timeout: std::time::Duration::from_millis(1500),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    // Hold the auction's row lock so the bid cannot finish in time.
    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let started = std::time::Instant::now();
    let (s, v) = status_json(app.bid(&key, id, json!("5")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("timeout"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Counted under its route, though the timeout's answer is made outside it.
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        counted(&text, "/api/bids", "503"),
        "a timed-out bid is not counted under its route"
    );
    tx.rollback().await.unwrap();
    // Nothing was stored for the timed-out bid.
    let (_, a) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(a["bid_count"], 0);
}
