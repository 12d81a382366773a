//! PostgreSQL stopped and started under a running gavel; Redis killed and restarted.

mod common;

use std::str::FromStr;
use std::time::{Duration, Instant};

use common::{spawn_app_on, status_json, Options, PrivatePostgres, PrivateRedis};
use gavel_storage::{PoolSettings, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;

async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

    wait_for("recovery", Duration::from_secs(20), || async {
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

#[sqlx::test(migrations = "../../migrations")]
async fn redis_killed_then_back_is_picked_up_again(pool: sqlx::PgPool) {
    let mut redis = PrivateRedis::start().await;
    let opts = Options {
        redis_url: Some(redis.url()),
        ..Default::default()
    };
    let app = common::spawn_app_with(pool, opts.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    let ready_redis = || async {
        let (_, v) = status_json(app.get("/ready", None).await).await;
        v["dependencies"]["redis"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    wait_for("redis ok", Duration::from_secs(5), || async {
        ready_redis().await == "ok"
    })
    .await;
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );

    redis.kill();
    // Correct answers without Redis, and /ready stays 200.
    let (s, v) = status_json(app.bid(&key, id, json!("5.005")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("bid_too_low"))
    );
    assert_eq!(
        app.bid(&key, id, json!("6")).await.status(),
        StatusCode::CREATED
    );
    wait_for("redis degraded", Duration::from_secs(5), || async {
        ready_redis().await == "degraded"
    })
    .await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);

    redis.start_server().await;
    wait_for("redis ok again", Duration::from_secs(10), || async {
        ready_redis().await == "ok"
    })
    .await;
    // The fast path is back: an accepted bid is written to the new Redis.
    assert_eq!(
        app.bid(&key, id, json!("7")).await.status(),
        StatusCode::CREATED
    );
    let client = redis::Client::open(redis.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let high: Option<String> = redis::cmd("HGET")
        .arg(format!("{}:auction:{id}", opts.redis_prefix))
        .arg("h")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(high.as_deref(), Some("0000000000000070000"));
}

/// A Redis that accepts connections but never answers: every call is bounded, bids stay
/// correct and quick, and `/ready` says `degraded`.
#[sqlx::test(migrations = "../../migrations")]
async fn a_silent_redis_slows_nothing_down(pool: sqlx::PgPool) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let app = common::spawn_app_with(
        pool,
        Options {
            redis_url: Some(format!("redis://127.0.0.1:{port}")),
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    let started = Instant::now();
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );
    let (s, v) = status_json(app.bid(&key, id, json!("5")).await).await;
    assert_eq!(
        (s, v["min_amount"].as_str()),
        (StatusCode::CONFLICT, Some("5.01"))
    );
    assert_eq!(
        app.bid(&key, id, json!("6")).await.status(),
        StatusCode::CREATED
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let r = app.get("/ready", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["dependencies"]["redis"], "degraded");
    holder.abort();
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
    let tx = common::lock_auction(&pool, id).await;
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
    wait_for("ready", Duration::from_secs(20), || async {
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
