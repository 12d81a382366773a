//! The example bodies the document shows on the main operations. They are written by
//! hand, so a test validates every example in the document against its schema.

use serde_json::{json, Value};

/// A create-bidder body.
pub fn new_bidder() -> Value {
    json!({"name": "exchange-1", "webhook_url": "https://exchange-1.example/win"})
}

/// A bidder as listed.
pub fn bidder() -> Value {
    json!({
        "id": 3,
        "name": "exchange-1",
        "webhook_url": "https://exchange-1.example/win",
        "status": "active",
        "rate_limit": null,
        "created_at": "2026-11-22T09:58:02.311Z"
    })
}

/// A bidder as created, with its secrets shown this once.
pub fn created_bidder() -> Value {
    let mut b = bidder();
    b["api_key"] = json!("gvl_q3B0c1u9nX2m4Jd8yT6wE1rK5aP7sH0vL2fG9zC4xQ");
    b["webhook_secret"] = json!("whsec_Z8mN1bV4cX7lK0jH3gF6dS9aP2oI5uY8tR1eW4qA7s");
    b
}

/// A page of bidders.
pub fn bidder_page() -> Value {
    json!({"items": [bidder()], "next_cursor": null})
}

/// A create-auction body (the contract's own).
pub fn new_auction() -> Value {
    json!({
        "title": "Homepage leaderboard, 2026-11-23",
        "kind": "english",
        "currency": "USD",
        "reserve_price": "1.00",
        "min_increment": "0.05",
        "extend_secs": 30,
        "starts_at": "2026-11-22T10:00:00Z",
        "ends_at": "2026-11-22T10:05:00Z"
    })
}

/// An open english auction with bids.
pub fn auction() -> Value {
    json!({
        "id": 7,
        "title": "Homepage leaderboard, 2026-11-23",
        "kind": "english",
        "currency": "USD",
        "reserve_price": "1.00",
        "min_increment": "0.05",
        "extend_secs": 30,
        "starts_at": "2026-11-22T10:00:00.000Z",
        "ends_at": "2026-11-22T10:05:00.000Z",
        "status": "open",
        "bid_count": 12,
        "highest_bid": {"bid_id": 99, "bidder_id": 3, "amount": "25.00"},
        "result": null,
        "created_at": "2026-11-22T09:59:12.004Z"
    })
}

/// A closed auction with its winner.
pub fn closed_auction() -> Value {
    let mut a = auction();
    a["status"] = json!("closed");
    a["result"] = json!({
        "winner_bidder_id": 3,
        "winning_bid_id": 99,
        "clearing_price": "25.00",
        "closed_at": "2026-11-22T10:05:00.412Z",
        "notice": "delivered"
    });
    a
}

/// A cancelled auction.
pub fn cancelled_auction() -> Value {
    let mut a = auction();
    a["status"] = json!("cancelled");
    a["cancelled_at"] = json!("2026-11-22T10:01:30.250Z");
    a
}

/// A page of auctions with more to come.
pub fn auction_page() -> Value {
    json!({"items": [auction()], "next_cursor": "djE6Nw"})
}

/// A place-bid body.
pub fn new_bid() -> Value {
    json!({"auction_id": 7, "amount": "25.00"})
}

/// An accepted english bid.
pub fn bid() -> Value {
    json!({
        "id": 99,
        "auction_id": 7,
        "bidder_id": 3,
        "amount": "25.00",
        "is_winning": true,
        "created_at": "2026-11-22T10:03:41.127Z"
    })
}

/// A page of bids.
pub fn bid_page() -> Value {
    let mut older = bid();
    older["id"] = json!(98);
    older["bidder_id"] = json!(4);
    older["amount"] = json!("24.95");
    older["is_winning"] = json!(false);
    older["created_at"] = json!("2026-11-22T10:03:40.870Z");
    json!({"items": [bid(), older], "next_cursor": null})
}
