//! Sealed bids stay sealed until the auction closes.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{spawn_app, status_json, ADMIN_TOKEN};

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
        sqlx::query("UPDATE auctions SET ends_at = now() - interval '1 second', starts_at = now() - interval '1 hour', closed_at = now(), winning_bid_id = highest_bid_id, winner_bidder_id = highest_bidder_id, clearing_price = highest_amount WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        // A change made behind the server's back shows within its freshness bound.
        tokio::time::sleep(gavel_service::board::FRESH_FOR).await;
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
