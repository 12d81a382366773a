//! Redis killed and restarted, or silent: bids stay correct and quick.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{self, status_json, Options, PrivateRedis};
use gavel_devkit::until;

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
    until(Duration::from_secs(5), "redis ok", || async {
        app.redis_state().await == "ok"
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
    until(Duration::from_secs(5), "redis degraded", || async {
        app.redis_state().await == "degraded"
    })
    .await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);

    redis.start_server().await;
    until(Duration::from_secs(10), "redis ok again", || async {
        app.redis_state().await == "ok"
    })
    .await;
    // The fast path is back: an accepted bid is written to the new Redis (just after its
    // 201: raises are sent off the request path).
    assert_eq!(
        app.bid(&key, id, json!("7")).await.status(),
        StatusCode::CREATED
    );
    let client = redis::Client::open(redis.url()).unwrap();
    let key = format!("{}:auction:{id}", opts.redis_prefix);
    until(Duration::from_secs(2), "the raise in redis", || async {
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let high: Option<String> = redis::cmd("HGET")
            .arg(&key)
            .arg("h")
            .query_async(&mut con)
            .await
            .unwrap();
        high.as_deref() == Some("0000000000000070000")
    })
    .await;
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
