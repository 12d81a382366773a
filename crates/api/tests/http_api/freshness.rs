//! Freshness of reads (API.md): a read reflects every bid this instance committed before
//! the request arrived, and bids committed through other instances within 100 ms.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{self, spawn_app_with, status_json, Options, DEAD_REDIS_URL};

/// The auction's highest amount and bid count as `app` reads them with `key`.
async fn seen(app: &common::TestApp, key: &str, id: i64) -> (String, i64) {
    let (s, v) = status_json(app.get(&format!("/api/auctions/{id}"), Some(key)).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (
        v["highest_bid"]["amount"]
            .as_str()
            .unwrap_or("-")
            .to_string(),
        v["bid_count"].as_i64().unwrap(),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_read_reflects_this_instances_commits_at_once(pool: PgPool) {
    let app = common::spawn_app(pool).await;
    let (_, key) = app.create_bidder("exchange").await;
    let id = app.create_auction(json!({"reserve_price": "1.00"})).await["id"]
        .as_i64()
        .unwrap();
    for (n, amount) in ["1.00", "1.50", "2.25", "3.00"].iter().enumerate() {
        // Read first, so the auction is held in memory when the bid lands.
        seen(&app, &key, id).await;
        assert_eq!(
            app.bid(&key, id, json!(amount)).await.status(),
            StatusCode::CREATED
        );
        assert_eq!(
            seen(&app, &key, id).await,
            (amount.to_string(), n as i64 + 1)
        );
    }
}

/// Two instances on one database (and `redis_url`), a bidder's key and an auction.
async fn two_instances(
    pool: PgPool,
    redis_url: String,
) -> (common::TestApp, common::TestApp, String, i64) {
    let opts = Options {
        redis_url: Some(redis_url),
        ..Default::default()
    };
    let a = spawn_app_with(pool.clone(), opts.clone()).await;
    let b = spawn_app_with(pool, opts).await;
    let (_, key) = a.create_bidder("exchange").await;
    let id = a.create_auction(json!({"reserve_price": "1.00"})).await["id"]
        .as_i64()
        .unwrap();
    (a, b, key, id)
}

async fn other_instance_within_100ms(pool: PgPool, redis_url: String) {
    let (a, b, key, id) = two_instances(pool, redis_url).await;
    for (n, amount) in ["1.00", "1.50", "2.25"].iter().enumerate() {
        // A holds the auction in memory; the bid goes through B.
        seen(&a, &key, id).await;
        assert_eq!(
            b.bid(&key, id, json!(amount)).await.status(),
            StatusCode::CREATED
        );
        let committed = Instant::now();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let on_a = seen(&a, &key, id).await;
        assert_eq!(
            on_a,
            (amount.to_string(), n as i64 + 1),
            "{:?} after B's 201",
            committed.elapsed()
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_read_reflects_other_instances_commits_within_100ms(pool: PgPool) {
    other_instance_within_100ms(pool, common::redis_url()).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_redis_other_instances_commits_still_show_within_100ms(pool: PgPool) {
    other_instance_within_100ms(pool, DEAD_REDIS_URL.to_string()).await;
}

/// A copy read over and over is served from memory and refreshed in the background (see
/// the service's board): every read that starts 100 ms after another instance's `201`
/// still shows that bid, with no Redis to tell this instance of it.
#[sqlx::test(migrations = "../../migrations")]
async fn a_copy_read_continuously_still_shows_other_instances_commits_within_100ms(pool: PgPool) {
    let (a, b, key, id) = two_instances(pool, DEAD_REDIS_URL.to_string()).await;
    let started = Instant::now();
    let reader = async {
        let mut reads = Vec::new();
        while started.elapsed() < Duration::from_millis(1_300) {
            let at = started.elapsed();
            reads.push((at, seen(&a, &key, id).await.1));
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        reads
    };
    let bidder = async {
        let mut answered = Vec::new();
        for amount in ["1.00", "1.50", "2.25", "3.00"] {
            tokio::time::sleep(Duration::from_millis(230)).await;
            assert_eq!(
                b.bid(&key, id, json!(amount)).await.status(),
                StatusCode::CREATED
            );
            answered.push(started.elapsed());
        }
        answered
    };
    let (reads, answered) = tokio::join!(reader, bidder);
    for (n, at_201) in answered.iter().enumerate() {
        let due = *at_201 + Duration::from_millis(100);
        for (at, count) in reads.iter().filter(|(at, _)| *at >= due) {
            assert!(
                *count > n as i64,
                "a read at {at:?} saw {count} bids; bid {} was answered at {at_201:?}",
                n + 1
            );
        }
    }
    let served_again = reads.len();
    assert!(served_again > 100, "only {served_again} reads");
}
