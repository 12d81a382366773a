//! Streams are checked before anything is held for them, are limited per key and per
//! instance, end after `closed` or `cancelled`, and leave nothing behind.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app_with, status_json, Options, TestApp, ADMIN_TOKEN};
use crate::{hour, SseReader};

fn limited(per_instance: usize, per_key: usize) -> Options {
    Options {
        streams: gavel_service::StreamSettings {
            per_instance,
            per_key,
        },
        ..Default::default()
    }
}

/// Waits until the instance holds no auction channel.
async fn nothing_watched(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.state.services.watched_auctions() > 0 {
        assert!(Instant::now() < deadline, "auction channels left behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn missing_auctions_hold_nothing(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let (_, key) = app.create_bidder("b").await;
    for id in 1_000..1_200 {
        let (s, v) = status_json(
            app.get(&format!("/api/auctions/{id}/events"), Some(&key))
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    }
    assert_eq!(app.state.services.watched_auctions(), 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_closed_stream_lets_go_of_its_auction(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();
    let stream = SseReader::open(&app, id, &key).await;
    assert_eq!(app.state.services.watched_auctions(), 1);
    drop(stream);
    // The server notices the gone client when it next writes: a bid makes it write.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut amount = 1;
    while app.state.services.watched_auctions() > 0 {
        assert!(Instant::now() < deadline, "the stream's channel stayed");
        app.bid(&key, id, json!(amount.to_string())).await;
        amount += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn cancelling_announces_it_and_ends_the_stream(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let (_, key) = app.create_bidder("b").await;
    let id = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();
    let mut stream = SseReader::open(&app, id, &key).await;
    let r = app
        .post(
            &format!("/api/auctions/{id}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let data = stream.expect("cancelled", Duration::from_secs(5)).await;
    assert_eq!(data["status"], "cancelled");
    assert!(
        stream.ends(Duration::from_secs(5)).await,
        "stream still open"
    );
    nothing_watched(&app).await;
    // A stream opened on an auction that is over ends at once.
    let mut late = SseReader::open(&app, id, &key).await;
    assert!(late.ends(Duration::from_secs(5)).await);
}

#[sqlx::test(migrations = "../../migrations")]
async fn streams_are_limited_per_key_and_per_instance(pool: PgPool) {
    let app = spawn_app_with(pool, limited(3, 2)).await;
    let (_, k1) = app.create_bidder("one").await;
    let (_, k2) = app.create_bidder("two").await;
    let id = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/auctions/{id}/events");
    let a = SseReader::open(&app, id, &k1).await;
    let b = SseReader::open(&app, id, &k1).await;
    let r = app.get(&path, Some(&k1)).await;
    assert_eq!(r.headers()["retry-after"], "1");
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    let c = SseReader::open(&app, id, &k2).await;
    let r = app.get(&path, Some(&k2)).await;
    assert_eq!(r.headers()["retry-after"], "1");
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("overloaded"))
    );
    // Places come back when streams end (cancel ends them all).
    drop((a, b, c));
    let r = app
        .post(
            &format!("/api/auctions/{id}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    nothing_watched(&app).await;
    let other = app.create_auction(json!({"ends_at": hour()})).await["id"]
        .as_i64()
        .unwrap();
    let _again = SseReader::open(&app, other, &k1).await;
}
