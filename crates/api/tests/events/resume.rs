//! Event ids, `retry:` and `Last-Event-ID`: a reconnecting stream gets what it missed.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, spawn_app_with, status_json, Options, ADMIN_TOKEN};
use crate::{hour, SseReader};

const WAIT: Duration = Duration::from_secs(5);

/// The ids and bid amounts of the next `n` events.
async fn next_ids(stream: &mut SseReader, n: usize) -> Vec<(String, String, String)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let (name, data) = stream.next(WAIT).await.expect("an event");
        let amount = data["amount"].as_str().unwrap_or_default().to_string();
        got.push((stream.last_id.clone().unwrap(), name, amount));
    }
    got
}

fn row(id: &str, name: &str, amount: &str) -> (String, String, String) {
    (id.into(), name.into(), amount.into())
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_reconnecting_stream_gets_what_it_missed_then_live_events(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();

    let mut stream = SseReader::open(&app, id, &key).await;
    for amount in ["1", "2"] {
        let r = app.bid(&key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(
        next_ids(&mut stream, 2).await,
        [row("2", "bid", "1.00"), row("4", "bid", "2.00")]
    );
    assert_eq!(stream.retry.as_deref(), Some("2000"), "a retry hint");
    drop(stream);

    // Missed while disconnected.
    for amount in ["3", "4"] {
        let r = app.bid(&key, id, json!(amount)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let mut stream = SseReader::resume(&app, id, &key, Some("4")).await;
    assert_eq!(
        next_ids(&mut stream, 2).await,
        [row("6", "bid", "3.00"), row("8", "bid", "4.00")]
    );
    let r = app.bid(&key, id, json!("5")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(next_ids(&mut stream, 1).await, [row("10", "bid", "5.00")]);

    // Without Last-Event-ID a stream starts from the auction as it is: nothing replayed.
    let mut fresh = SseReader::open(&app, id, &key).await;
    assert!(fresh.next(Duration::from_millis(300)).await.is_none());
    let r = app.bid(&key, id, json!("6")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(next_ids(&mut fresh, 1).await, [row("12", "bid", "6.00")]);

    // An id this server never gave out is refused.
    let r = app
        .client
        .get(format!("{}/api/auctions/{id}/events", app.url))
        .bearer_auth(&key)
        .header("Last-Event-ID", "seven")
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(r).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "Last-Event-ID");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stream_resumes_on_another_instance(pool: PgPool) {
    let opts = Options::default();
    let a = spawn_app_with(pool.clone(), opts.clone()).await;
    let b = spawn_app_with(pool, opts).await;
    let (_, key) = a.create_bidder("b").await;
    let id = a.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();

    // B hears A's bids through Redis; its subscription may still be starting, so bid
    // until one reaches a stream on B.
    let mut on_b = SseReader::open(&b, id, &key).await;
    let mut amount = 1;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = a.bid(&key, id, json!(amount.to_string())).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        if on_b.next(Duration::from_millis(500)).await.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "B never heard A's bids");
        amount += 1;
    }
    let seen = on_b.last_id.clone().unwrap();
    assert_eq!(seen, (2 * amount).to_string());
    drop(on_b);

    // Two more bids through A while the client is away, then it reconnects to B.
    for more in [amount + 1, amount + 2] {
        let r = a.bid(&key, id, json!(more.to_string())).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = SseReader::resume(&b, id, &key, Some(&seen)).await;
    let got = next_ids(&mut again, 2).await;
    assert_eq!(
        got,
        [
            row(
                &(2 * amount + 2).to_string(),
                "bid",
                &format!("{}.00", amount + 1)
            ),
            row(
                &(2 * amount + 4).to_string(),
                "bid",
                &format!("{}.00", amount + 2)
            ),
        ]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stream_that_missed_the_end_gets_it_and_ends(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();
    let r = app.bid(&key, id, json!("1")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            &format!("/api/auctions/{id}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // It had the bid (id 2), missed the cancel (id 4).
    let mut stream = SseReader::resume(&app, id, &key, Some("2")).await;
    let (name, data) = stream.next(WAIT).await.expect("the cancel");
    assert_eq!(
        (name.as_str(), data["status"].as_str()),
        ("cancelled", Some("cancelled"))
    );
    assert_eq!(stream.last_id.as_deref(), Some("4"));
    assert!(stream.ends(WAIT).await, "the stream ends after cancelled");

    // A client that had the end gets nothing more; one that never connected learns it.
    let mut done = SseReader::resume(&app, id, &key, Some("4")).await;
    assert!(done.next(WAIT).await.is_none());
    let mut late = SseReader::open(&app, id, &key).await;
    let (name, _) = late.next(WAIT).await.expect("the cancel");
    assert_eq!(name, "cancelled");
    assert!(late.ends(WAIT).await);
}
