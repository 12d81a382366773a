//! Placing and listing bids: reserve, increment, auction state, exact amounts.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, status_json};

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
async fn no_minimum_is_offered_once_nothing_can_win(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, k1) = app.create_bidder("one").await;
    let (_, k2) = app.create_bidder("two").await;
    let a = app.create_auction(json!({"min_increment": "0.01"})).await;
    let id = a["id"].as_i64().unwrap();
    let top = "99999999999999.9999";
    let (s, v) = status_json(app.bid(&k1, id, json!(top)).await).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Both the in-memory fast path and PostgreSQL answer this one.
    for _ in 0..2 {
        let (s, v) = status_json(app.bid(&k2, id, json!(top)).await).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::CONFLICT, Some("bid_too_low"))
        );
        // Never an amount the API itself refuses (100000000000000.00).
        assert!(v["min_amount"].is_null(), "{v}");
        assert!(v["detail"].as_str().unwrap().contains("no amount"), "{v}");
    }
}
