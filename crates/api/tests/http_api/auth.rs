//! Who may do what: bearer keys, the admin token, and a key bidding only as its own bidder.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::{spawn_app, status_json, ADMIN_TOKEN};

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
