//! What the storage tests share: money, bids, a bidder and an open auction in a few words,
//! and a way to keep a bid waiting on an auction's row lock.

#![allow(dead_code)]

use chrono::{Duration, Utc};
use gavel_domain::{
    AuctionId, AuctionKind, BidAmount, BidRequest, BidderId, Money, NewAuctionInput,
};
use gavel_storage::{NewBidderRow, Storage};

/// An amount.
pub fn m(s: &str) -> Money {
    s.parse().unwrap()
}

/// A bid of `amount`.
pub fn bid(auction_id: AuctionId, bidder_id: BidderId, amount: &str) -> BidRequest {
    BidRequest {
        auction_id,
        bidder_id,
        amount: BidAmount::new(m(amount)).unwrap(),
    }
}

/// A bidder numbered `n` (its key hash is `n` repeated).
pub async fn bidder(s: &Storage, n: u8) -> BidderId {
    s.create_bidder(NewBidderRow {
        name: &format!("b{n}"),
        webhook_url: None,
        api_key_hash: &[n; 32],
        key_prefix: "gvl_test",
        webhook_secret: "whsec_x",
    })
    .await
    .unwrap()
    .id
}

/// An auction of `kind`, open for the next hour, reserve 1.
pub async fn auction(s: &Storage, kind: AuctionKind) -> AuctionId {
    let now = Utc::now();
    let a = NewAuctionInput {
        title: Some("t".into()),
        kind: Some(kind),
        reserve_price: Some(m("1")),
        starts_at: Some(now - Duration::minutes(1)),
        ends_at: Some(now + Duration::hours(1)),
        ..Default::default()
    }
    .validate(now)
    .unwrap();
    s.create_auction(&a).await.unwrap().id
}

/// A transaction holding `auction`'s row lock, as a bid batch or a settlement does: bids
/// and settlements on it wait until it ends.
pub async fn hold_lock(
    pool: &sqlx::PgPool,
    auction: AuctionId,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM auctions WHERE id = $1 FOR UPDATE")
        .bind(auction.get())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}
