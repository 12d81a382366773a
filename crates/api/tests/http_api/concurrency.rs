//! Colliding bids from many tasks through two instances sharing one database: the
//! accepted sequence must rise strictly, whatever Redis does.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{spawn_app_with, Options, TestApp, DEAD_REDIS_URL};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;

const TASKS: usize = 32;
const BIDS_PER_TASK: usize = 12;

#[derive(Clone, Copy, PartialEq)]
enum RedisMode {
    Up,
    FlushedMidRun,
    Unreachable,
}

async fn two_instances(pool: PgPool, mode: RedisMode) -> (TestApp, TestApp) {
    let base = Options {
        redis_url: Some(match mode {
            RedisMode::Unreachable => DEAD_REDIS_URL.to_string(),
            _ => crate::common::redis_url(),
        }),
        ..Default::default()
    };
    // Same database and same Redis prefix: two instances of one deployment.
    let a = spawn_app_with(pool.clone(), base.clone()).await;
    let b = spawn_app_with(pool, base).await;
    (a, b)
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

async fn colliding_bids(pool: PgPool, mode: RedisMode) {
    let (a, b) = two_instances(pool.clone(), mode).await;
    let apps = Arc::new([a, b]);
    let mut keys = Vec::new();
    for i in 0..8 {
        keys.push(apps[0].create_bidder(&format!("exchange {i}")).await.1);
    }
    let auction = apps[0]
        .create_auction(json!({"reserve_price": "1.00", "min_increment": "0.05"}))
        .await;
    let id = auction["id"].as_i64().unwrap();
    let increment: Decimal = "0.05".parse().unwrap();

    let flusher = (mode == RedisMode::FlushedMidRun).then(|| {
        tokio::spawn(async {
            let client = redis::Client::open(crate::common::redis_url()).unwrap();
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(60)).await;
                let _: () = redis::cmd("FLUSHDB").query_async(&mut con).await.unwrap();
            }
        })
    });

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let apps = apps.clone();
        let key = keys[t % keys.len()].clone();
        tasks.push(tokio::spawn(async move {
            let app = &apps[t % 2];
            let mut next: Decimal = "1.00".parse().unwrap();
            let mut accepted = Vec::new();
            let mut statuses = Vec::new();
            for _ in 0..BIDS_PER_TASK {
                let r = app.bid(&key, id, json!(next.to_string())).await;
                let status = r.status();
                let body: Value = r.json().await.unwrap();
                statuses.push(status);
                match status {
                    StatusCode::CREATED => {
                        accepted.push((body["id"].as_i64().unwrap(), dec(&body["amount"])));
                        next += increment;
                    }
                    StatusCode::CONFLICT => {
                        assert_eq!(body["code"], "bid_too_low", "{body}");
                        next = dec(&body["min_amount"]);
                    }
                    other => panic!("unexpected {other}: {body}"),
                }
            }
            (accepted, statuses)
        }));
    }
    let mut accepted = Vec::new();
    for t in tasks {
        let (acc, statuses) = t.await.unwrap();
        assert!(statuses.iter().all(|s| !s.is_server_error()));
        accepted.extend(acc);
    }
    if let Some(f) = flusher {
        f.await.unwrap();
    }
    accepted.sort();
    assert!(accepted.len() >= 2, "bids should have been accepted");
    for pair in accepted.windows(2) {
        assert!(
            pair[1].1 >= pair[0].1 + increment,
            "accepted bids must rise by the increment: {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    // Every 201 is in the database, and nothing else is.
    let stored: Vec<(i64, Decimal)> =
        sqlx::query_as("SELECT id, amount FROM bids WHERE auction_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored, accepted);
    let (highest, count): (Option<Decimal>, i64) =
        sqlx::query_as("SELECT highest_amount, bid_count FROM auctions WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(highest, accepted.iter().map(|a| a.1).max());
    assert_eq!(count, accepted.len() as i64);
    // And the API agrees.
    let r = apps[1]
        .get(&format!("/api/auctions/{id}"), Some(&keys[0]))
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["bid_count"], accepted.len() as i64);
    assert_eq!(dec(&v["highest_bid"]["amount"]), highest.unwrap());
}

#[sqlx::test(migrations = "../../migrations")]
async fn colliding_bids_on_two_instances(pool: PgPool) {
    colliding_bids(pool, RedisMode::Up).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn colliding_bids_with_redis_flushed_mid_run(pool: PgPool) {
    colliding_bids(pool, RedisMode::FlushedMidRun).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn colliding_bids_with_redis_unreachable(pool: PgPool) {
    colliding_bids(pool, RedisMode::Unreachable).await;
}

/// With the auction row locked, a bid that reaches PostgreSQL would wait; a hopeless
/// one is answered at once, so the fast path did not touch the database.
#[sqlx::test(migrations = "../../migrations")]
async fn hopeless_bids_are_turned_away_without_postgres(pool: PgPool) {
    let app = spawn_app_with(pool.clone(), Options::default()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({"min_increment": "1"})).await;
    let id = a["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, id, json!("10")).await.status(),
        StatusCode::CREATED
    );

    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let r = tokio::time::timeout(Duration::from_secs(2), app.bid(&key, id, json!("10.50")))
        .await
        .expect("a hopeless bid must not wait for PostgreSQL");
    let (s, v) = crate::common::status_json(r).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["min_amount"], "11.00");
    tx.rollback().await.unwrap();
}

/// A stale cache can only let bids through, never refuse a winning one: after the
/// entry is wiped, a bid that beats the database's highest is still accepted.
#[sqlx::test(migrations = "../../migrations")]
async fn a_flushed_cache_never_refuses_a_good_bid(pool: PgPool) {
    let opts = Options::default();
    let app = spawn_app_with(pool, opts.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );
    let client = redis::Client::open(crate::common::redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:auction:{id}", opts.redis_prefix))
        .query_async(&mut con)
        .await
        .unwrap();
    let (s, v) = crate::common::status_json(app.bid(&key, id, json!("4")).await).await;
    assert_eq!(
        (s, v["min_amount"].as_str()),
        (StatusCode::CONFLICT, Some("5.01"))
    );
    assert_eq!(
        app.bid(&key, id, json!("5.01")).await.status(),
        StatusCode::CREATED
    );
}
