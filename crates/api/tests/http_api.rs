//! Every route and error code of the contract, through a real server.

mod common;

use common::{spawn_app, spawn_app_with, status_json, Options, ADMIN_TOKEN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn health_and_ready(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (s, v) = status_json(app.get("/health", None).await).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
    let (s, v) = status_json(app.get("/ready", None).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ready");
    assert_eq!(v["dependencies"]["postgres"], "ok");
    assert_eq!(v["dependencies"]["redis"], "ok");
}

#[sqlx::test(migrations = "../../migrations")]
async fn ready_reports_redis_disabled_and_degraded(pool: PgPool) {
    let off = spawn_app_with(
        pool.clone(),
        Options {
            redis_url: None,
            ..Default::default()
        },
    )
    .await;
    let (_, v) = status_json(off.get("/ready", None).await).await;
    assert_eq!(v["dependencies"]["redis"], "disabled");
    let dead = spawn_app_with(
        pool,
        Options {
            redis_url: Some(common::DEAD_REDIS_URL.into()),
            ..Default::default()
        },
    )
    .await;
    // The probe runs at start; give it a moment.
    let mut seen = Value::Null;
    for _ in 0..30 {
        let (s, v) = status_json(dead.get("/ready", None).await).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "Redis down must not make the service unready"
        );
        seen = v["dependencies"]["redis"].clone();
        if seen == "degraded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "degraded");
}

#[sqlx::test(migrations = "../../migrations")]
async fn auth_is_enforced(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("exchange").await;
    // no token, unknown token
    for token in [None, Some("gvl_nope"), Some("")] {
        let r = app.get("/api/auctions", token).await;
        assert_eq!(
            r.headers().get("www-authenticate").unwrap(),
            "Bearer",
            "{token:?}"
        );
        let (s, v) = status_json(r).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(v["code"], "unauthorized");
    }
    // a bidder may not do admin work
    let (s, v) = status_json(
        app.post("/api/bidders", Some(&key), &json!({"name": "x"}))
            .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, _) = status_json(app.get("/api/bidders", Some(&key)).await).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = status_json(app.post("/api/auctions", Some(&key), &json!({})).await).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // the admin may not bid
    let a = app.create_auction(json!({})).await;
    let (s, _) = status_json(
        app.bid(ADMIN_TOKEN, a["id"].as_i64().unwrap(), json!("5"))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // any key reads auctions
    let (s, _) = status_json(app.get("/api/auctions", Some(&key)).await).await;
    assert_eq!(s, StatusCode::OK);
}

#[sqlx::test(migrations = "../../migrations")]
async fn bidders_show_secrets_once_and_store_only_a_hash(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let r = app
        .post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "Seat 1", "webhook_url": "https://dsp.example/win"}),
        )
        .await;
    let (s, created) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED);
    let key = created["api_key"].as_str().unwrap();
    let secret = created["webhook_secret"].as_str().unwrap();
    assert_eq!(created["webhook_url"], "https://dsp.example/win");
    let (s, list) = status_json(app.get("/api/bidders", Some(ADMIN_TOKEN)).await).await;
    assert_eq!(s, StatusCode::OK);
    let text = list.to_string();
    assert!(!text.contains(key) && !text.contains(secret) && !text.contains("api_key"));
    assert_eq!(list["items"][0]["name"], "Seat 1");
    // the database holds no plaintext key
    let stored: Vec<u8> = sqlx::query_scalar("SELECT api_key_hash FROM bidders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(key));
    // invalid input
    let (s, v) = status_json(
        app.post(
            "/api/bidders",
            Some(ADMIN_TOKEN),
            &json!({"name": "", "webhook_url": "ftp://x"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "validation_failed");
    let fields: Vec<_> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "webhook_url"]);
}

#[sqlx::test(migrations = "../../migrations")]
async fn auctions_create_get_and_validate(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app
        .post(
            "/api/auctions",
            Some(ADMIN_TOKEN),
            &json!({"title": "Leaderboard", "kind": "english", "currency": "EUR",
                    "reserve_price": "1.00", "min_increment": 0.05, "extend_secs": 30,
                    "starts_at": "2026-11-22T10:00:00Z", "ends_at": "2026-11-22T10:05:00Z"}),
        )
        .await;
    let location = r
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (s, a) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(location, format!("/api/auctions/{}", a["id"]));
    assert_eq!(a["reserve_price"], "1.00");
    assert_eq!(a["min_increment"], "0.05");
    assert_eq!(a["currency"], "EUR");
    assert_eq!(a["starts_at"], "2026-11-22T10:00:00.000Z");
    assert_eq!(a["status"], "closing", "past its end by the database clock");
    assert_eq!(a["highest_bid"], Value::Null);
    assert_eq!(a["result"], Value::Null);
    assert_eq!(a["bid_count"], 0);

    let (_, key) = app.create_bidder("b").await;
    let (s, got) = status_json(app.get(&location, Some(&key)).await).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["id"], a["id"]);

    let (s, v) = status_json(app.get("/api/auctions/999999", Some(&key)).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("auction_not_found"))
    );
    let (s, _) = status_json(app.get("/api/auctions/abc", Some(&key)).await).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, v) = status_json(
        app.post(
            "/api/auctions",
            Some(ADMIN_TOKEN),
            &json!({"title": "x", "kind": "dutch", "ends_at": "2026-11-22T10:05:00Z"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "kind");
    let (s, v) = status_json(
        app.post(
            "/api/auctions",
            Some(ADMIN_TOKEN),
            &json!({"title": "x", "reserve_price": "1.00001", "ends_at": "2026-11-22T10:05:00Z"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "reserve_price");
    let (s, v) = status_json(
        app.post("/api/auctions", Some(ADMIN_TOKEN), &json!({"title": "x"}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "ends_at");
}

#[sqlx::test(migrations = "../../migrations")]
async fn auction_list_pages_and_filters(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let a = app.create_auction(json!({"title": format!("a{i}")})).await;
        ids.push(a["id"].as_i64().unwrap());
    }
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let later_end = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let scheduled = app
        .create_auction(json!({"starts_at": later, "ends_at": later_end}))
        .await;
    assert_eq!(scheduled["status"], "scheduled");

    // newest first, two at a time
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/auctions?status=open&limit=2&cursor={c}"),
            None => "/api/auctions?status=open&limit=2".to_string(),
        };
        let (s, page) = status_json(app.get(&path, Some(&key)).await).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for a in page["items"].as_array().unwrap() {
            assert_eq!(a["status"], "open");
            seen.push(a["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);

    let (_, page) = status_json(app.get("/api/auctions?status=scheduled", Some(&key)).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    for bad in [
        "/api/auctions?status=nope",
        "/api/auctions?limit=0",
        "/api/auctions?limit=501",
        "/api/auctions?limit=x",
        "/api/auctions?cursor=garbage",
    ] {
        let (s, v) = status_json(app.get(bad, Some(&key)).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(v["code"], "validation_failed");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn english_bids_follow_reserve_and_increment(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (b1, k1) = app.create_bidder("one").await;
    let (_, k2) = app.create_bidder("two").await;
    let a = app
        .create_auction(json!({"reserve_price": "1.00", "min_increment": "0.05"}))
        .await;
    let id = a["id"].as_i64().unwrap();

    let (s, v) = status_json(app.bid(&k1, id, json!("0.99")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("bid_too_low"))
    );
    assert_eq!(v["min_amount"], "1.00");

    let (s, first) = status_json(app.bid(&k1, id, json!("1.00")).await).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["is_winning"], true);
    assert_eq!(first["bidder_id"], b1);
    assert_eq!(first["amount"], "1.00");

    let (s, v) = status_json(app.bid(&k2, id, json!(1.04)).await).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["min_amount"], "1.05");
    let (s, second) = status_json(app.bid(&k2, id, json!(1.05)).await).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");

    let (_, auction) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&k1)).await).await;
    assert_eq!(auction["bid_count"], 2);
    assert_eq!(auction["highest_bid"]["amount"], "1.05");
    assert_eq!(auction["highest_bid"]["bid_id"], second["id"]);

    for path in [
        format!("/api/auctions/{id}/bids"),
        format!("/api/bids/{id}"),
    ] {
        let (s, list) = status_json(app.get(&path, Some(&k1)).await).await;
        assert_eq!(s, StatusCode::OK);
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["id"], second["id"]);
        assert_eq!(items[0]["is_winning"], true);
        assert_eq!(items[1]["is_winning"], false);
    }
    let (s, v) = status_json(app.get("/api/auctions/424242/bids", Some(&k1)).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("auction_not_found"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn bids_outside_open_and_on_missing_auctions(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let later_end = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let scheduled = app
        .create_auction(json!({"starts_at": later, "ends_at": later_end}))
        .await;
    let (s, v) = status_json(
        app.bid(&key, scheduled["id"].as_i64().unwrap(), json!("5"))
            .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("auction_not_open"))
    );
    assert_eq!(v["auction_status"], "scheduled");

    let ended = app
        .create_auction(
            json!({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-01T00:05:00Z"}),
        )
        .await;
    let (s, v) = status_json(
        app.bid(&key, ended["id"].as_i64().unwrap(), json!("5"))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Closing, or already closed if the closer got there first.
    assert!(
        matches!(v["auction_status"].as_str(), Some("closing" | "closed")),
        "{v}"
    );

    let (s, v) = status_json(app.bid(&key, 987654, json!("5")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("auction_not_found"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn bid_amounts_are_validated_exactly(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({"reserve_price": "0"})).await;
    let id = a["id"].as_i64().unwrap();
    for bad in [
        json!("1.23456"),
        json!("123456789012345"),
        json!("NaN"),
        json!("Infinity"),
        json!("-1"),
        json!("0"),
        json!(0),
        json!("abc"),
        json!(true),
        json!(null),
    ] {
        let (s, v) = status_json(app.bid(&key, id, bad.clone()).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["errors"][0]["field"], "amount", "{bad}: {v}");
    }
    // A JSON number is read from its text: 14 integer and 4 fractional digits survive.
    let r = app
        .client
        .post(format!("{}/api/bids", app.url))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"auction_id": {id}, "amount": 12345678901234.5678}}"#
        ))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["amount"], "12345678901234.5678");
    // The next bid must beat it by the increment; that no longer fits NUMERIC(18,4).
    let (s, v) = status_json(app.bid(&key, id, json!("99999999999999.9999")).await).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = status_json(app.bid(&key, id, json!("99999999999999.9999")).await).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_is_the_keys_bidder(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (b1, k1) = app.create_bidder("one").await;
    let (b2, _) = app.create_bidder("two").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    let (s, v) = status_json(
        app.post(
            "/api/bids",
            Some(&k1),
            &json!({"auction_id": id, "amount": "2", "bidder_id": b2}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, v) = status_json(
        app.post(
            "/api/bids",
            Some(&k1),
            &json!({"auction_id": id, "amount": "2", "bidder_id": b1}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["bidder_id"], b1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn body_errors_have_their_codes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let send = |ct: Option<&'static str>, body: Vec<u8>| {
        let mut r = app
            .client
            .post(format!("{}/api/bids", app.url))
            .bearer_auth(&key)
            .body(body);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.send()
    };
    let (s, v) = status_json(send(None, b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (s, _) = status_json(send(Some("text/plain"), b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, v) = status_json(
        send(Some("application/json"), b"{\"auction_id\": 1,".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, v) = status_json(
        send(Some("application/json"), b"[]".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let (s, v) = status_json(
        send(Some("application/json"), b"{\"amount\": \"1\"}".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["errors"][0]["field"], "auction_id");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024));
    let (s, v) = status_json(
        send(Some("application/json"), big.into_bytes())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_routes_and_methods_are_problems(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (s, v) = status_json(app.get("/nope", None).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = app
        .client
        .delete(format!("{}/api/bids", app.url))
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn request_ids_are_taken_or_made(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app.get("/health", None).await;
    let made = r.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert!(made.len() >= 16);
    let r = app
        .client
        .get(format!("{}/health", app.url))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("x-request-id").unwrap(), "abc-123");
}

#[sqlx::test(migrations = "../../migrations")]
async fn responses_are_compressed_when_asked(pool: PgPool) {
    let app = spawn_app(pool).await;
    for i in 0..20 {
        app.create_auction(json!({"title": format!("auction number {i}")}))
            .await;
    }
    let r = app
        .client
        .get(format!("{}/api/auctions", app.url))
        .bearer_auth(ADMIN_TOKEN)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-encoding").unwrap(), "gzip");
}

#[sqlx::test(migrations = "../../migrations")]
async fn cors_allows_only_listed_origins(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        Options {
            http: gavel_api::app::HttpOptions {
                cors: gavel_api::config::CorsOrigins::List(vec!["https://admin.example".into()]),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/auctions", app.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://admin.example").await.unwrap();
    assert_eq!(
        ok.headers().get("access-control-allow-origin").unwrap(),
        "https://admin.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let open = spawn_app_with(
        pool,
        Options {
            http: gavel_api::app::HttpOptions {
                cors: gavel_api::config::CorsOrigins::Any,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let r = open
        .client
        .get(format!("{}/health", open.url))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
}

#[sqlx::test(migrations = "../../migrations")]
async fn slow_requests_time_out_as_problems(pool: PgPool) {
    let app = spawn_app_with(
        pool.clone(),
        Options {
            http: gavel_api::app::HttpOptions {
                // Long enough for the set-up requests on a busy machine.
                request_timeout: std::time::Duration::from_millis(1500),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    let id = a["id"].as_i64().unwrap();
    // Hold the auction's row lock so the bid cannot finish in time.
    let tx = common::lock_auction(&pool, id).await;
    let started = std::time::Instant::now();
    let (s, v) = status_json(app.bid(&key, id, json!("5")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("timeout"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    tx.rollback().await.unwrap();
    // Nothing was stored for the timed-out bid.
    let (_, a) = status_json(app.get(&format!("/api/auctions/{id}"), Some(&key)).await).await;
    assert_eq!(a["bid_count"], 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn internal_errors_leak_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (_, key) = app.create_bidder("b").await;
    let a = app.create_auction(json!({})).await;
    // Fault injection: the bids table vanishes under the running service.
    sqlx::query("DROP TABLE bids CASCADE")
        .execute(&pool)
        .await
        .unwrap();
    let r = app
        .get(&format!("/api/auctions/{}/bids", a["id"]), Some(&key))
        .await;
    let (s, v) = status_json(r).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal"))
    );
    let text = v.to_string().to_lowercase();
    for leak in ["relation", "bids", "sql", "postgres", "does not exist"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn admins_cancel_scheduled_or_open_auctions_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, key) = app.create_bidder("b").await;
    let open = app.create_auction(json!({})).await;
    let id = open["id"].as_i64().unwrap();
    assert_eq!(
        app.bid(&key, id, json!("5")).await.status(),
        StatusCode::CREATED
    );

    let path = format!("/api/auctions/{id}/cancel");
    let (s, v) = status_json(app.post(&path, Some(&key), &json!({})).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    let (s, v) = status_json(app.post(&path, Some(ADMIN_TOKEN), &json!({})).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "cancelled");
    // No bid gets in after the cancel, not even one the cache would have let through.
    let (s, v) = status_json(app.bid(&key, id, json!("50")).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("auction_not_open"))
    );
    assert_eq!(v["auction_status"], "cancelled");
    // Cancelling again, or cancelling an ended auction, is invalid_state.
    let (s, v) = status_json(app.post(&path, Some(ADMIN_TOKEN), &json!({})).await).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    assert_eq!(v["auction_status"], "cancelled");
    let ended = app
        .create_auction(
            json!({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-01T00:05:00Z"}),
        )
        .await;
    let (s, v) = status_json(
        app.post(
            &format!("/api/auctions/{}/cancel", ended["id"]),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        matches!(v["auction_status"].as_str(), Some("closing" | "closed")),
        "{v}"
    );
    let (s, v) = status_json(
        app.post("/api/auctions/777777/cancel", Some(ADMIN_TOKEN), &json!({}))
            .await,
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("auction_not_found"))
    );
    let (_, listed) =
        status_json(app.get("/api/auctions?status=cancelled", Some(&key)).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn openapi_document_describes_served_routes(pool: PgPool) {
    let app = spawn_app(pool).await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/api/bidders",
        "/api/auctions",
        "/api/auctions/{id}",
        "/api/auctions/{id}/cancel",
        "/api/auctions/{id}/bids",
        "/api/auctions/{id}/events",
        "/api/bids",
        "/api/bids/{auction_id}",
    ] {
        assert!(paths.contains_key(expected), "{expected} undocumented");
    }
    // Every documented operation is routed: no 404 not_found, no 405.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "1").replace("{auction_id}", "1");
        for method in ops.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(m, format!("{}{concrete}", app.url))
                .send()
                .await
                .unwrap();
            assert_ne!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_ne!(v["code"], "not_found", "{method} {path}");
        }
    }
}
