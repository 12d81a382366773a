//! Bids, extensions and closes reach streams on every instance.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, spawn_app_with, status_json, Options, ADMIN_TOKEN};
use crate::{hour, SseReader};

#[sqlx::test(migrations = "../../migrations")]
async fn bids_reach_streams_on_every_instance(pool: PgPool) {
    let opts = Options::default();
    let a = spawn_app_with(pool.clone(), opts.clone()).await;
    let b = spawn_app_with(pool, opts).await;
    let (bidder, key) = a.create_bidder("b").await;
    let auction = a.create_auction(json!({"ends_at": hour()})).await;
    let id = auction["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&a, id, &key).await;

    // Its own instance's bid arrives at once.
    assert_eq!(
        a.bid(&key, id, json!("1")).await.status(),
        StatusCode::CREATED
    );
    let data = stream.expect("bid", Duration::from_secs(5)).await;
    assert_eq!(data["amount"], "1.00");
    assert_eq!(data["bidder_id"], bidder);

    // The other instance's bids come through Redis; its subscription may still be
    // starting, so keep bidding until one arrives.
    let mut amount = 2;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        assert_eq!(
            b.bid(&key, id, json!(amount.to_string())).await.status(),
            StatusCode::CREATED
        );
        if let Some((name, data)) = stream.next(Duration::from_millis(500)).await {
            assert_eq!(name, "bid");
            assert_eq!(data["amount"], format!("{amount}.00"));
            break;
        }
        assert!(Instant::now() < deadline, "no bid from the other instance");
        amount += 1;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_redis_an_instance_streams_its_own_bids(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let auction = app.create_auction(json!({"ends_at": hour()})).await;
    let id = auction["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&app, id, &key).await;
    app.bid(&key, id, json!("3")).await;
    assert_eq!(
        stream.expect("bid", Duration::from_secs(5)).await["amount"],
        "3.00"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn sealed_streams_reveal_only_the_count(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let auction = app
        .create_auction(json!({"kind": "second_price", "ends_at": hour()}))
        .await;
    let id = auction["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&app, id, &key).await;
    app.bid(&key, id, json!("7")).await;
    let data = stream.expect("bid", Duration::from_secs(5)).await;
    assert_eq!(data, json!({"auction_id": id, "bid_count": 1}));
}

#[sqlx::test(migrations = "../../migrations")]
async fn late_bids_extend_and_the_close_is_announced(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let ends = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let auction = app
        .create_auction(json!({"ends_at": ends, "extend_secs": 4}))
        .await;
    let id = auction["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&app, id, &key).await;
    app.bid(&key, id, json!("2")).await;
    stream.expect("bid", Duration::from_secs(5)).await;
    let ext = stream.expect("extended", Duration::from_secs(5)).await;
    assert_eq!(ext["auction_id"], id);
    let new_end: chrono::DateTime<chrono::Utc> = ext["ends_at"].as_str().unwrap().parse().unwrap();
    assert!(new_end > ends.parse::<chrono::DateTime<chrono::Utc>>().unwrap());
    let closed = stream.expect("closed", Duration::from_secs(20)).await;
    assert_eq!(closed["id"], id);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["result"]["clearing_price"], "2.00");
}

#[sqlx::test(migrations = "../../migrations")]
async fn streams_need_a_key_and_an_auction(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (s, _) = status_json(app.get("/api/auctions/1/events", None).await).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = status_json(
        app.get("/api/auctions/424242/events", Some(ADMIN_TOKEN))
            .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("auction_not_found"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn shutdown_closes_open_streams(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        Options {
            grace: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let auction = app.create_auction(json!({"ends_at": hour()})).await;
    let id = auction["id"].as_i64().unwrap();
    let mut stream = SseReader::open(&app, id, &key).await;
    let stopping = tokio::spawn(app.stop());
    // The stream ends instead of holding shutdown for the whole grace period.
    assert!(stream.next(Duration::from_secs(20)).await.is_none());
    tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .expect("shutdown waited on an open stream")
        .unwrap()
        .unwrap();
}
