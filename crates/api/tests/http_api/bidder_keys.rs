//! Bidder management: one bidder with its keys, changes, key rotation and revocation,
//! disabling, and per-bidder rate limits; two instances see each change within 5 s, with
//! Redis or without.

use std::time::{Duration, Instant};

use crate::common::{spawn_app_with, status_json, Options, TestApp, ADMIN_TOKEN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn patch(app: &TestApp, id: i64, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .patch(format!("{}/api/bidders/{id}", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn new_key(app: &TestApp, id: i64, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = app
        .client
        .post(format!("{}/api/bidders/{id}/keys", app.url))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        r = r.json(&b);
    }
    status_json(r.send().await.unwrap()).await
}

async fn revoke(app: &TestApp, id: i64, key_id: i64) -> StatusCode {
    app.client
        .delete(format!("{}/api/bidders/{id}/keys/{key_id}", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .status()
}

/// What `key` gets on a bidder route of `app`.
async fn answer(app: &TestApp, key: &str) -> (StatusCode, Value) {
    status_json(app.get("/api/auctions?limit=1", Some(key)).await).await
}

/// Waits (at most 5 s) until `key` gets `want` on every instance; how long it took.
async fn until_everywhere(apps: &[&TestApp], key: &str, want: StatusCode) -> Duration {
    let started = Instant::now();
    for app in apps {
        loop {
            let (status, v) = answer(app, key).await;
            if status == want {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "still {status} {v} after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    started.elapsed()
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_bidder_with_its_keys_and_changes(pool: PgPool) {
    let app = spawn_app_with(pool, Options::default()).await;
    let (id, key) = app.create_bidder("dsp").await;
    let (status, b) = status_json(
        app.get(&format!("/api/bidders/{id}"), Some(ADMIN_TOKEN))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["rate_limit"].clone()),
        (Some("active"), Value::Null)
    );
    let keys = b["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["prefix"], key[..8], "the first 8 characters");
    assert!(!b.to_string().contains(&key), "never the key itself");

    let (status, changed) = patch(
        &app,
        id,
        json!({"name": "dsp two", "rate_limit": 50, "webhook_url": "https://dsp.example/n"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["rate_limit"].as_u64()),
        (Some("dsp two"), Some(50))
    );
    let (_, cleared) = patch(&app, id, json!({"webhook_url": null, "rate_limit": null})).await;
    assert_eq!(
        (
            cleared["webhook_url"].clone(),
            cleared["rate_limit"].clone()
        ),
        (Value::Null, Value::Null)
    );
    assert_eq!(cleared["name"], "dsp two", "fields not sent stay");

    let (status, bad) = patch(&app, id, json!({"status": "paused", "rate_limit": 0})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "rate_limit"]);
    for missing in ["/api/bidders/999999", "/api/bidders/abc"] {
        let (status, v) = status_json(app.get(missing, Some(ADMIN_TOKEN)).await).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("bidder_not_found"))
        );
    }
    let (status, _) = status_json(app.get(&format!("/api/bidders/{id}"), Some(&key)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admin only");
    assert_eq!(revoke(&app, id, 999_999).await, StatusCode::NOT_FOUND);
    let (status, v) = new_key(&app, id, Some(json!({"expire_others_in_secs": -1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

/// Rotation, revocation, expiry and disabling, seen by two instances within 5 s.
async fn keys_change_everywhere(pool: PgPool, redis: bool) {
    let opts = Options {
        redis_url: redis.then(crate::common::redis_url),
        ..Default::default()
    };
    let a = spawn_app_with(pool.clone(), opts.clone()).await;
    let b = spawn_app_with(pool, opts).await;
    let (id, old) = a.create_bidder("rotating").await;
    for app in [&a, &b] {
        assert_eq!(answer(app, &old).await.0, StatusCode::OK);
    }
    // Rotation: a new key works at once; the old one until it is revoked.
    let (status, made) = new_key(&a, id, None).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let new = made["api_key"].as_str().unwrap().to_string();
    for app in [&a, &b] {
        assert_eq!(answer(app, &new).await.0, StatusCode::OK);
        assert_eq!(answer(app, &old).await.0, StatusCode::OK);
    }
    let (_, listed) = status_json(
        a.get(&format!("/api/bidders/{id}"), Some(ADMIN_TOKEN))
            .await,
    )
    .await;
    let old_id = listed["keys"][0]["key_id"].as_i64().unwrap();
    assert_eq!(revoke(&b, id, old_id).await, StatusCode::NO_CONTENT);
    let took = until_everywhere(&[&a, &b], &old, StatusCode::UNAUTHORIZED).await;
    eprintln!("revoked key refused everywhere after {took:?}");
    assert_eq!(answer(&a, &new).await.0, StatusCode::OK);

    // Expiry: a third key puts one on the others, here at once.
    let (_, third) = new_key(&a, id, Some(json!({"expire_others_in_secs": 0}))).await;
    let third = third["api_key"].as_str().unwrap().to_string();
    until_everywhere(&[&a, &b], &new, StatusCode::UNAUTHORIZED).await;
    assert_eq!(answer(&b, &third).await.0, StatusCode::OK);

    // Disabled: 403 bidder_disabled everywhere; enabled again: back.
    assert_eq!(
        patch(&a, id, json!({"status": "disabled"})).await.0,
        StatusCode::OK
    );
    until_everywhere(&[&a, &b], &third, StatusCode::FORBIDDEN).await;
    let (_, v) = answer(&b, &third).await;
    assert_eq!(v["code"], "bidder_disabled");
    assert_eq!(
        patch(&b, id, json!({"status": "active"})).await.0,
        StatusCode::OK
    );
    until_everywhere(&[&a, &b], &third, StatusCode::OK).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn key_changes_reach_every_instance_with_redis(pool: PgPool) {
    keys_change_everywhere(pool, true).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn key_changes_reach_every_instance_without_redis(pool: PgPool) {
    keys_change_everywhere(pool, false).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bidder_rate_limit_overrides_the_default(pool: PgPool) {
    let app = spawn_app_with(
        pool,
        Options {
            rate: (0, 0),
            ..Default::default()
        },
    )
    .await;
    let (slow, slow_key) = app.create_bidder("slow").await;
    let (_, free_key) = app.create_bidder("free").await;
    assert_eq!(
        patch(&app, slow, json!({"rate_limit": 10})).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut limited = None;
    for _ in 0..30 {
        let r = app.get("/api/auctions?limit=1", Some(&slow_key)).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("past its own limit of 10 a second (burst 1): 429");
    assert!(r.headers().contains_key("retry-after"));
    let (_, v) = status_json(r).await;
    assert_eq!(v["code"], "rate_limited");
    for _ in 0..30 {
        assert_eq!(
            app.get("/api/auctions?limit=1", Some(&free_key))
                .await
                .status(),
            StatusCode::OK,
            "no default limit here"
        );
    }
}
