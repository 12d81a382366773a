//! Sealed-bid confidentiality, idempotency, rate limits, load shedding, metrics.

mod common;

use std::time::{Duration, Instant};

use common::{spawn_app, spawn_app_with, status_json, Options, ADMIN_TOKEN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn sealed_bids_stay_sealed_until_close(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (b1, k1) = app.create_bidder("one").await;
    let (_, k2) = app.create_bidder("two").await;
    for kind in ["first_price", "second_price"] {
        let a = app
            .create_auction(json!({"kind": kind, "reserve_price": "2"}))
            .await;
        let id = a["id"].as_i64().unwrap();
        let (s, mine) = status_json(app.bid(&k1, id, json!("10")).await).await;
        assert_eq!(s, StatusCode::CREATED, "{mine}");
        assert_eq!(mine["is_winning"], Value::Null);
        let (s, v) = status_json(app.bid(&k1, id, json!("11")).await).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_bid"))
        );
        let (s, v) = status_json(app.bid(&k2, id, json!("1.99")).await).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::CONFLICT, Some("bid_too_low"))
        );
        let (s, _) = status_json(app.bid(&k2, id, json!("3")).await).await;
        assert_eq!(s, StatusCode::CREATED);

        // Bidder two sees neither bidder one's bid nor the highest amount.
        let (_, list) = status_json(
            app.get(&format!("/api/auctions/{id}/bids"), Some(&k2))
                .await,
        )
        .await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["amount"], "3.00");
        let (_, old) = status_json(app.get(&format!("/api/bids/{id}"), Some(&k2)).await).await;
        assert_eq!(old["items"].as_array().unwrap().len(), 1);
        let (_, seen) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&k2)).await).await;
        assert_eq!(seen["highest_bid"], Value::Null);
        assert_eq!(seen["bid_count"], 2);
        assert!(!seen.to_string().contains("10.00"));
        let (_, listed) = status_json(app.get("/api/auctions", Some(&k2)).await).await;
        let entry = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        assert_eq!(entry["highest_bid"], Value::Null);

        // The admin sees everything.
        let (_, all) = status_json(
            app.get(&format!("/api/auctions/{id}/bids"), Some(ADMIN_TOKEN))
                .await,
        )
        .await;
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let (_, admin_view) = status_json(
            app.get(&format!("/api/auctions/{id}"), Some(ADMIN_TOKEN))
                .await,
        )
        .await;
        assert_eq!(admin_view["highest_bid"]["amount"], "10.00");
        assert_eq!(admin_view["highest_bid"]["bidder_id"], b1);

        // Once closed (settled), everyone sees all.
        sqlx::query("UPDATE auctions SET ends_at = now() - interval '1 second', starts_at = now() - interval '1 hour', closed_at = now(), winning_bid_id = highest_bid_id, winner_bidder_id = highest_bidder_id WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        let (_, after) = status_json(
            app.get(&format!("/api/auctions/{id}/bids"), Some(&k2))
                .await,
        )
        .await;
        assert_eq!(after["items"].as_array().unwrap().len(), 2);
        let (_, closed) =
            status_json(app.get(&format!("/api/auctions/{id}"), Some(&k2)).await).await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["highest_bid"]["amount"], "10.00");
    }
}

async fn keyed_bid(app: &common::TestApp, key: &str, idem: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/bids", app.url))
        .bearer_auth(key)
        .header("idempotency-key", idem)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn twenty_concurrent_repeats_make_one_bid(pool: PgPool) {
    let app = std::sync::Arc::new(spawn_app(pool.clone()).await);
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let app = app.clone();
        let key = key.clone();
        // "5", 5 and "5.00" are the same request.
        let amount = [json!("5"), json!(5), json!("5.00")][i % 3].clone();
        tasks.push(tokio::spawn(async move {
            let r = keyed_bid(
                &app,
                &key,
                "retry-me-42",
                json!({"auction_id": id, "amount": amount}),
            )
            .await;
            let replayed = r
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap().to_string());
            let (s, v) = status_json(r).await;
            (s, v["id"].as_i64(), replayed)
        }));
    }
    let mut ids = Vec::new();
    let mut replays = 0;
    for t in tasks {
        let (s, bid_id, replayed) = t.await.unwrap();
        assert_eq!(s, StatusCode::CREATED);
        ids.push(bid_id.unwrap());
        if replayed.as_deref() == Some("true") {
            replays += 1;
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "all answers carry the same bid id");
    assert_eq!(replays, 19);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM bids")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);

    // Same key, other body.
    let (s, v) = status_json(
        keyed_bid(
            &app,
            &key,
            "retry-me-42",
            json!({"auction_id": id, "amount": "6"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        )
    );
    // A rejection is a first answer too.
    let first = keyed_bid(&app, &key, "low", json!({"auction_id": id, "amount": "1"})).await;
    assert_eq!(first.status(), StatusCode::CONFLICT);
    app.bid(&key, id, json!("100")).await;
    let again = keyed_bid(&app, &key, "low", json!({"auction_id": id, "amount": "1"})).await;
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let (s, v) = status_json(again).await;
    assert_eq!(
        (s, v["min_amount"].as_str()),
        (StatusCode::CONFLICT, Some("5.01"))
    );
    // Keys are per bidder: another bidder may use the same key.
    let (_, other) = app.create_bidder("c").await;
    let r = keyed_bid(
        &app,
        &other,
        "retry-me-42",
        json!({"auction_id": id, "amount": "200"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.headers().get("idempotent-replayed").is_none());
    // Bad keys.
    for bad in ["", "has space", &"k".repeat(256)] {
        let (s, _) = status_json(
            keyed_bid(&app, &key, bad, json!({"auction_id": id, "amount": "300"})).await,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn old_idempotency_keys_are_pruned(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    keyed_bid(&app, &key, "old", json!({"auction_id": id, "amount": "5"})).await;
    keyed_bid(&app, &key, "new", json!({"auction_id": id, "amount": "6"})).await;
    sqlx::query(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(app.state.storage.prune_idempotency_keys().await.unwrap(), 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, ["new"]);
}

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
                http: gavel_api::app::HttpOptions {
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
    let tx = common::lock_auction(&pool, id).await;
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

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_are_open_or_behind_their_token(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.get("/health", None).await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("gavel_http_requests_total"), "{text}");

    let guarded = spawn_app_with(
        pool,
        Options {
            metrics_token: Some("metrics-secret".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        guarded.get("/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded.get("/metrics", Some("wrong")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded
            .get("/metrics", Some("metrics-secret"))
            .await
            .status(),
        StatusCode::OK
    );
}
