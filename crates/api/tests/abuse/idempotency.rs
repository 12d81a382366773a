//! Idempotency keys: repeats make one bid; old keys are pruned.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{self, spawn_app, status_json};

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
    // Replayed from the stored row, after the commit: the stored outcome holds the bid's
    // own id (written in the statement that gave the bid its id).
    let stored: String =
        sqlx::query_scalar("SELECT outcome->'accepted'->'bid'->>'id' FROM idempotency_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, ids[0].to_string());
    let later = keyed_bid(
        &app,
        &key,
        "retry-me-42",
        json!({"auction_id": id, "amount": "5"}),
    )
    .await;
    assert_eq!(later.headers().get("idempotent-replayed").unwrap(), "true");
    let (s, v) = status_json(later).await;
    assert_eq!((s, v["id"].as_i64()), (StatusCode::CREATED, Some(ids[0])));

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
    assert_eq!(
        app.state.services.prune_idempotency_keys().await.unwrap(),
        1
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, ["new"]);
}
