//! Graceful shutdown on SIGTERM and SIGINT, bounded by the grace period.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use crate::server::{bidder_and_auction, signal, sigterm, start_server, wait_exit};

/// Sends a bid of 3 on auction `id` from a task of its own, so it can be in flight.
fn bid_in_background(
    url: &str,
    key: String,
    id: i64,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let url = format!("{url}/api/bids");
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(key)
            .json(&json!({"auction_id": id, "amount": "3"}))
            .send()
            .await
    })
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_finishes_the_bid_in_flight_then_exits_zero(pool: PgPool) {
    let mut server = start_server(&pool, 20).await;
    let (key, id) = bidder_and_auction(&server.url).await;
    // Hold the auction's lock so the bid is still in flight when the signal lands.
    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let in_flight = bid_in_background(&server.url, key, id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigterm(&server.child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are no longer accepted.
    let refused = reqwest::Client::new()
        .get(format!("{}/health", server.url))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "a new request was served after SIGTERM");
    tx.commit().await.unwrap();
    let answered = in_flight.await.unwrap().unwrap();
    assert_eq!(answered.status(), reqwest::StatusCode::CREATED);
    let status = wait_exit(&mut server.child, Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bids WHERE auction_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn shutdown_is_bounded_by_the_grace_period(pool: PgPool) {
    let mut server = start_server(&pool, 1).await;
    let (key, id) = bidder_and_auction(&server.url).await;
    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let stuck = bid_in_background(&server.url, key, id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    sigterm(&server.child);
    let status = wait_exit(&mut server.child, Duration::from_secs(8)).await;
    assert!(status.success(), "exit status {status}");
    assert!(started.elapsed() < Duration::from_secs(6));
    // The bid that never got its lock was not answered 201.
    if let Ok(Ok(Ok(r))) = tokio::time::timeout(Duration::from_secs(2), stuck).await {
        assert_ne!(r.status(), reqwest::StatusCode::CREATED);
    }
    tx.rollback().await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigint_shuts_down_cleanly_too(pool: PgPool) {
    let mut server = start_server(&pool, 5).await;
    signal(&server.child, "-INT");
    let status = wait_exit(&mut server.child, Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
}
