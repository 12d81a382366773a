//! PostgreSQL stopped mid-test, down at start-up, or out of pool connections.

use std::str::FromStr;
use std::time::{Duration, Instant};

use gavel_storage::{PoolSettings, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;

use crate::common::{self, spawn_app_on, status_json, Options, PrivatePostgres};
use gavel_devkit::until;

#[tokio::test]
async fn postgres_stopped_mid_test_then_back_without_restart() {
    let pg = PrivatePostgres::start();
    let storage = Storage::connect_lazy(
        PgConnectOptions::from_str(&pg.url()).unwrap(),
        &PoolSettings {
            max_connections: 5,
            acquire_timeout: Duration::from_millis(500),
        },
    );
    let app = spawn_app_on(
        storage,
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );

    pg.stop_server();

    for attempt in 0..3 {
        let started = Instant::now();
        let (s, v) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("database_unavailable")
            ),
            "attempt {attempt}: {v}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
        let (s, v) = status_json(app.bid(&key, id, json!("6")).await).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("database_unavailable")
            )
        );
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
    // /ready answers its own JSON shape, not a problem document, even when 503.
    let r = app.get("/ready", None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "unavailable");
    assert_eq!(v["dependencies"]["postgres"], "down");

    pg.start_server();

    until(Duration::from_secs(20), "recovery", || async {
        app.get(&format!("/api/auctions/{id}"), Some(&key))
            .await
            .status()
            == StatusCode::OK
    })
    .await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
    let (s, v) = status_json(app.bid(&key, id, json!("6")).await).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, a) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(a["bid_count"], 2, "the failed bids left nothing behind");
}

/// An exhausted pool answers `503 database_unavailable` within the acquire timeout.
#[sqlx::test(migrations = "../../migrations")]
async fn an_exhausted_pool_is_unavailable_not_a_hang(pool: sqlx::PgPool) {
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(300))
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let app = std::sync::Arc::new(
        spawn_app_on(
            Storage::from_pool(small),
            Options {
                redis_url: None,
                ..Default::default()
            },
        )
        .await,
    );
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    // The one connection is taken by a bid waiting for the auction's lock.
    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let waiting = {
        let app = app.clone();
        let key = key.clone();
        tokio::spawn(async move { app.bid(&key, id, json!("5")).await.status() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let (s, v) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_unavailable")
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
    tx.rollback().await.unwrap();
    assert_eq!(waiting.await.unwrap(), StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/api/auctions/{id}"), Some(&key))
            .await
            .status(),
        StatusCode::OK
    );
}

/// PostgreSQL down at start-up is not fatal: gavel listens at once and migrates as soon
/// as the database answers.
#[tokio::test]
async fn postgres_down_at_start_up_then_migrated_when_it_comes() {
    let pg = PrivatePostgres::start();
    pg.stop_server();
    let storage = Storage::connect_lazy(
        PgConnectOptions::from_str(&pg.url()).unwrap(),
        &PoolSettings {
            max_connections: 5,
            acquire_timeout: Duration::from_millis(500),
        },
    );
    let app = common::spawn_app_unmigrated(
        storage,
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/ready", None).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (s, v) = status_json(app.get("/api/auctions", Some(common::ADMIN_TOKEN)).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_unavailable")
        )
    );

    pg.start_server();
    until(Duration::from_secs(20), "ready", || async {
        app.get("/ready", None).await.status() == StatusCode::OK
    })
    .await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    assert_eq!(
        app.bid(&key, a["id"].as_i64().unwrap(), json!("5"))
            .await
            .status(),
        StatusCode::CREATED
    );
}
