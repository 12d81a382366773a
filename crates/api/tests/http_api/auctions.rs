//! Creating, reading, listing and cancelling auctions.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{spawn_app, status_json, ADMIN_TOKEN};

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
