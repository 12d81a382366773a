//! `Gavel-Deadline-Ms`: a bid not decided in time is `503 deadline_exceeded` and never
//! stored, even when its batch was already waiting for the auction's lock; a bid taken
//! for a decision before its deadline is answered with its outcome, however late.

use std::time::{Duration, Instant};

use crate::common::{spawn_app, status_json, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn bid_by(
    app: &TestApp,
    key: &str,
    id: i64,
    amount: &str,
    ms: &str,
    idem: Option<&str>,
) -> reqwest::Response {
    bid_to(&app.client, &app.url, key, id, amount, ms, idem).await
}

async fn bid_to(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    id: i64,
    amount: &str,
    ms: &str,
    idem: Option<&str>,
) -> reqwest::Response {
    let mut r = client
        .post(format!("{url}/api/bids"))
        .bearer_auth(key)
        .header("gavel-deadline-ms", ms)
        .json(&json!({"auction_id": id, "amount": amount}));
    if let Some(k) = idem {
        r = r.header("idempotency-key", k);
    }
    r.send().await.unwrap()
}

/// An app, a bidder's key and an open auction.
async fn bidder_and_auction(pool: &PgPool) -> (TestApp, String, i64) {
    let app = spawn_app(pool.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    (app, key, id)
}

async fn stored_bids(pool: &PgPool, id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM bids WHERE auction_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_past_its_deadline_is_refused_in_time_and_never_stored(pool: PgPool) {
    let (app, key, id) = bidder_and_auction(&pool).await;
    // The batch carrying the bid waits for this lock.
    let held = gavel_devkit::hold_row_lock(&pool, id).await;
    let started = Instant::now();
    let r = bid_by(&app, &key, id, "5", "300", None).await;
    let took = started.elapsed();
    // Every 503 says when to come back, as the OpenAPI document promises.
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    let (status, v) = status_json(r).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("deadline_exceeded")),
        "{v}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // The batch goes on once the lock is free: the bid must not be decided then.
    held.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stored_bids(&pool, id).await,
        0,
        "a bid answered deadline_exceeded is never stored"
    );
    // The next bid goes through, and the miss is counted.
    assert_eq!(
        bid_by(&app, &key, id, "5", "2000", None).await.status(),
        StatusCode::CREATED
    );
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains("gavel_bids_total{outcome=\"deadline_exceeded\"} 1"),
        "{text}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_whose_lock_comes_before_its_deadline_is_decided(pool: PgPool) {
    let (app, key, id) = bidder_and_auction(&pool).await;
    // The same row lock, released well before the deadline: the bid waits, then is decided.
    let held = gavel_devkit::hold_row_lock(&pool, id).await;
    let (client, url) = (app.client.clone(), app.url.clone());
    let started = Instant::now();
    let answer = tokio::spawn(async move {
        bid_to(&client, &url, &key, id, "5", "5000", None)
            .await
            .status()
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    held.rollback().await.unwrap();
    assert_eq!(answer.await.unwrap(), StatusCode::CREATED);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(stored_bids(&pool, id).await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_taken_before_its_deadline_is_answered_with_its_outcome_late(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (bidder, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    // Another transaction holds the same idempotency key, uncommitted: the batch takes
    // the bid (its auction locked, its deadline not passed), then waits on the key.
    let mut held = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (bidder_id, key, request_hash, outcome)
         VALUES ($1, 'late', '\\x00', 'null')",
    )
    .bind(bidder)
    .execute(&mut *held)
    .await
    .unwrap();
    let started = Instant::now();
    let (client, url) = (app.client.clone(), app.url.clone());
    let answer = tokio::spawn(async move {
        let r = bid_to(&client, &url, &key, id, "5", "300", Some("late")).await;
        let status = r.status();
        (status, r.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !answer.is_finished(),
        "taken for a decision: it waits for its outcome"
    );
    held.rollback().await.unwrap();
    let (status, v) = answer.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert!(started.elapsed() > Duration::from_millis(800));
    assert_eq!(stored_bids(&pool, id).await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn deadlines_out_of_range_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    for bad in ["0", "60001", "-5", "1.5", "soon", ""] {
        let (status, v) = status_json(bid_by(&app, &key, id, "5", bad, None).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["errors"][0]["field"], "Gavel-Deadline-Ms", "{bad}: {v}");
    }
    assert_eq!(
        bid_by(&app, &key, id, "5", "60000", None).await.status(),
        StatusCode::CREATED
    );
}
