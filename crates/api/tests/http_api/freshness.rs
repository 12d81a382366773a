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

/// A copy in memory is read by every caller and across the auction's end, while its JSON
/// is written once and kept: what each response shows must still follow the caller (a
/// sealed auction's highest bid) and the clock (its status).
#[sqlx::test(migrations = "../../migrations")]
async fn reads_from_memory_follow_the_caller_and_the_clock(pool: PgPool) {
    let app = common::spawn_app(pool).await;
    let (_, key) = app.create_bidder("exchange").await;
    let ends_at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let id = app
        .create_auction(json!({"kind": "first_price", "ends_at": ends_at.to_rfc3339()}))
        .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.bid(&key, id, json!("10")).await.status(),
        StatusCode::CREATED
    );
    // The same database clock as here; the margin covers a response's own time.
    let margin = chrono::Duration::milliseconds(20);
    let (mut open_seen, mut over_seen) = (0, 0);
    while chrono::Utc::now() < ends_at + chrono::Duration::milliseconds(300) {
        for (caller, is_admin) in [(key.as_str(), false), (common::ADMIN_TOKEN, true)] {
            let sent = chrono::Utc::now();
            let (s, v) =
                status_json(app.get(&format!("/api/auctions/{id}"), Some(caller)).await).await;
            let answered = chrono::Utc::now();
            assert_eq!(s, StatusCode::OK, "{v}");
            let status = v["status"].as_str().unwrap();
            if answered + margin < ends_at {
                assert_eq!(status, "open", "{v}");
                open_seen += 1;
            }
            if sent > ends_at + margin {
                assert_ne!(status, "open", "{v}");
                over_seen += 1;
            }
            let amount = &v["highest_bid"]["amount"];
            if is_admin || status == "closed" {
                assert_eq!(amount, "10.00", "{v}");
            } else {
                assert!(v["highest_bid"].is_null(), "sealed until closed: {v}");
            }
        }
    }
    assert!(
        open_seen > 10 && over_seen > 10,
        "{open_seen} / {over_seen}"
    );
}

/// A copy read just before an auction opens and again just after, with nothing changed
/// in between, shows it open the second time (the status follows the clock, not the copy).
#[sqlx::test(migrations = "../../migrations")]
async fn a_copy_read_across_the_start_shows_the_new_status(pool: PgPool) {
    let app = common::spawn_app(pool).await;
    let (_, key) = app.create_bidder("exchange").await;
    let starts_at = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let body = json!({
        "starts_at": starts_at.to_rfc3339(),
        "ends_at": (starts_at + chrono::Duration::hours(1)).to_rfc3339(),
    });
    let id = app.create_auction(body).await["id"].as_i64().unwrap();
    let status_at = |at: chrono::DateTime<chrono::Utc>| {
        let (app, key) = (&app, &key);
        async move {
            let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let (s, v) =
                status_json(app.get(&format!("/api/auctions/{id}"), Some(key)).await).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v["status"].as_str().unwrap().to_string()
        }
    };
    // 80 ms apart: the second read is served from the copy the first one kept (unless
    // this machine stalls, when it reads the database, which must say the same).
    let margin = chrono::Duration::milliseconds(40);
    assert_eq!(status_at(starts_at - margin).await, "scheduled");
    assert_eq!(status_at(starts_at + margin).await, "open");
}
