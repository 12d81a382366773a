//! Loss notices: every bidder that bid, has a webhook and did not win is told once, when
//! the auction closes or is cancelled; signed like win notices, showing nothing of other
//! bids but the winner's price.

use std::time::Duration;

use crate::common::{spawn_app_with, Options, TestApp, ADMIN_TOKEN};
use crate::notices::{receiver, Seen};
use serde_json::{json, Value};
use sqlx::PgPool;

/// A bidder with (or without) a webhook: its id, key and signing secret.
async fn bidder(app: &TestApp, name: &str, hook: Option<&str>) -> (i64, String, String) {
    let mut body = json!({"name": name});
    if let Some(url) = hook {
        body["webhook_url"] = json!(url);
    }
    let v: Value = app
        .post("/api/bidders", Some(ADMIN_TOKEN), &body)
        .await
        .json()
        .await
        .unwrap();
    (
        v["id"].as_i64().unwrap(),
        v["api_key"].as_str().unwrap().to_string(),
        v["webhook_secret"].as_str().unwrap().to_string(),
    )
}

fn soon(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms)).to_rfc3339()
}

async fn placed(app: &TestApp, key: &str, auction: i64, amount: &str) -> Value {
    let r = app.bid(key, auction, json!(amount)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// The notices a receiver got, by event, once `n` have come.
async fn notices(seen: &Seen, n: usize) -> Vec<(reqwest::header::HeaderMap, Value, String)> {
    gavel_devkit::eventually(Duration::from_secs(15), "the notices", || async {
        let got = seen.lock().unwrap().clone();
        (got.len() >= n).then_some(got)
    })
    .await
    .into_iter()
    .map(|(h, body)| {
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &h {
            headers.insert(k.clone(), v.clone());
        }
        (headers, serde_json::from_str(&body).unwrap(), body)
    })
    .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn outbid_bidders_are_told_once_with_their_highest_bid(pool: PgPool) {
    let (url, seen) = receiver(0).await;
    let app = spawn_app_with(pool, Options::default()).await;
    let (_, winner, _) = bidder(&app, "winner", Some(&url)).await;
    let (loser_id, loser, secret) = bidder(&app, "loser", Some(&url)).await;
    let (_, silent, _) = bidder(&app, "no webhook", None).await;
    let a = app
        .create_auction(json!({"ends_at": soon(1500), "currency": "EUR", "min_increment": "0.05"}))
        .await;
    let id = a["id"].as_i64().unwrap();
    placed(&app, &loser, id, "2.00").await;
    let highest = placed(&app, &loser, id, "3.00").await;
    placed(&app, &silent, id, "3.50").await;
    placed(&app, &winner, id, "4.00").await;

    let got = notices(&seen, 2).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "one win, one loss: nothing for the bidder without a webhook"
    );
    let (headers, lost, body) = got
        .iter()
        .find(|(_, v, _)| v["event"] == "auction.lost")
        .expect("a loss notice")
        .clone();
    assert_eq!(lost["auction_id"], id);
    assert_eq!(lost["bidder_id"], loser_id);
    assert_eq!(lost["bid_id"], highest["id"], "its highest bid");
    assert_eq!(lost["loss_reason"], 102);
    assert_eq!(lost["min_to_win"], "4.05");
    assert_eq!(lost["clearing_price"], "4.00");
    assert_eq!(lost["currency"], "EUR");
    assert!(lost["closed_at"].as_str().is_some());
    assert_eq!(
        lost.as_object().unwrap().len(),
        10,
        "the contract's fields only: {lost}"
    );
    assert_eq!(
        headers["gavel-notice-id"].to_str().unwrap(),
        lost["notice_id"]
    );
    // Verified the way a receiver would.
    let sig = headers["gavel-signature"].to_str().unwrap();
    let t: i64 = sig[2..sig.find(',').unwrap()].parse().unwrap();
    assert_eq!(sig, gavel_service::notices::signature(&secret, t, &body));
}

#[sqlx::test(migrations = "../../migrations")]
async fn sealed_losers_learn_the_winning_price_and_nothing_else(pool: PgPool) {
    let (url, seen) = receiver(0).await;
    let app = spawn_app_with(pool, Options::default()).await;
    let (_, winner, _) = bidder(&app, "winner", Some(&url)).await;
    let (_, second, _) = bidder(&app, "second", Some(&url)).await;
    let (_, third, _) = bidder(&app, "third", Some(&url)).await;
    let mut auctions = Vec::new();
    for kind in ["first_price", "second_price"] {
        let a = app
            .create_auction(json!({"kind": kind, "ends_at": soon(1500), "reserve_price": "1"}))
            .await;
        let id = a["id"].as_i64().unwrap();
        placed(&app, &third, id, "2.25").await;
        placed(&app, &second, id, "3.00").await;
        placed(&app, &winner, id, "5.00").await;
        auctions.push((kind, id));
    }
    let got = notices(&seen, 6).await;
    for (kind, id) in auctions {
        let lost: Vec<&Value> = got
            .iter()
            .map(|(_, v, _)| v)
            .filter(|v| v["auction_id"] == id && v["event"] == "auction.lost")
            .collect();
        assert_eq!(lost.len(), 2, "{kind}");
        let price = if kind == "first_price" {
            "5.00"
        } else {
            "3.00"
        };
        for l in lost {
            assert_eq!(l["loss_reason"], 102, "{kind}");
            assert_eq!(
                l["min_to_win"], "5.0001",
                "{kind}: the winning bid plus 0.0001"
            );
            assert_eq!(l["clearing_price"], price, "{kind}");
            assert_eq!(l.as_object().unwrap().len(), 10, "no other bid shown: {l}");
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_cancelled_auction_tells_every_bidder(pool: PgPool) {
    let (url, seen) = receiver(0).await;
    let app = spawn_app_with(pool, Options::default()).await;
    let (a_id, a_key, _) = bidder(&app, "a", Some(&url)).await;
    let (b_id, b_key, _) = bidder(&app, "b", Some(&url)).await;
    let id = app.create_auction(json!({})).await["id"].as_i64().unwrap();
    placed(&app, &a_key, id, "2.00").await;
    placed(&app, &b_key, id, "2.50").await;
    let r = app
        .post(
            &format!("/api/auctions/{id}/cancel"),
            Some(ADMIN_TOKEN),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got = notices(&seen, 2).await;
    let mut told: Vec<i64> = got
        .iter()
        .map(|(_, v, _)| v["bidder_id"].as_i64().unwrap())
        .collect();
    told.sort_unstable();
    let mut want = vec![a_id, b_id];
    want.sort_unstable();
    assert_eq!(told, want, "the highest bidder too: nobody won");
    for (_, v, _) in &got {
        assert_eq!(v["event"], "auction.lost");
        assert_eq!(v["loss_reason"], 2);
        assert_eq!(v["min_to_win"], Value::Null);
        assert_eq!(v["clearing_price"], Value::Null);
    }
}
