//! Per-bidder rate limits and load shedding past the in-flight cap.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{counted, spawn_app_with, status_json, Options, ADMIN_TOKEN};

#[sqlx::test(migrations = "../../migrations")]
async fn a_burst_past_the_rate_limit_is_refused_then_allowed(pool: PgPool) {
    // One request a second, bursts of two: a burst of twenty sent at once mostly fails,
    // however slow the machine.
    let app = std::sync::Arc::new(
        spawn_app_with(
            pool,
            Options {
                rate: (1, 2),
                ..Default::default()
            },
        )
        .await,
    );
    let (_, key) = app.create_bidder("b").await;
    let (_, other) = app.create_bidder("c").await;
    let burst = (0..20).map(|_| {
        let app = app.clone();
        let key = key.clone();
        tokio::spawn(async move { app.get("/api/auctions", Some(&key)).await })
    });
    let mut limited = 0;
    for r in futures::future::join_all(burst).await {
        let r = r.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            let (_, v) = status_json(r).await;
            assert_eq!(v["code"], "rate_limited");
            limited += 1;
        } else {
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    assert!(limited >= 10, "only {limited} refused");
    // Another key has its own budget; the admin is not limited.
    assert_eq!(
        app.get("/api/auctions", Some(&other)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/auctions", Some(ADMIN_TOKEN)).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.get("/api/auctions", Some(&key)).await.status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn saturation_past_max_inflight_is_shed_at_once(pool: PgPool) {
    let app = std::sync::Arc::new(
        spawn_app_with(
            pool.clone(),
            Options {
                http: gavel_api::HttpOptions {
                    max_inflight: 2,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await,
    );
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    let tx = gavel_devkit::hold_row_lock(&pool, id).await;
    let mut stuck = Vec::new();
    for i in 0..2 {
        let app = app.clone();
        let key = key.clone();
        stuck.push(tokio::spawn(async move {
            app.bid(&key, id, json!(format!("{}", 5 + i)))
                .await
                .status()
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let r = app.get("/api/auctions", Some(&key)).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shedding must not queue"
    );
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("overloaded"))
    );
    // Health, readiness and metrics are never shed.
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/metrics", None).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/openapi.json", None).await.status(),
        StatusCode::OK
    );
    // A shed request is counted under its route.
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        counted(&text, "/api/auctions", "503"),
        "the shed request is not counted under its route:\n{text}"
    );
    tx.rollback().await.unwrap();
    // Both were served once the lock went; one may have outbid the other.
    let mut created = 0;
    for t in stuck {
        let s = t.await.unwrap();
        assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s}");
        created += usize::from(s == StatusCode::CREATED);
    }
    assert!(created >= 1);
    assert_eq!(
        app.get("/api/auctions", Some(&key)).await.status(),
        StatusCode::OK
    );
}
