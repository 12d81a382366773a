//! Win notices' attempts recorded beside bid batches.

use crate::common::{bid, m};
use chrono::{Duration, Utc};
use gavel_domain::{AuctionId, AuctionKind, NewAuctionInput, Notice};
use gavel_storage::{Attempt, NewBidderRow, Outbox, Storage};
use sqlx::PgPool;

/// An english auction ending `ms` from now.
async fn ending(s: &Storage, ms: i64) -> AuctionId {
    let now = Utc::now();
    let a = NewAuctionInput {
        title: Some("t".into()),
        kind: Some(AuctionKind::English),
        reserve_price: Some(m("1")),
        starts_at: Some(now - Duration::minutes(1)),
        ends_at: Some(now + Duration::milliseconds(ms)),
        ..Default::default()
    }
    .validate(now)
    .unwrap();
    s.create_auction(&a).await.unwrap().id
}

#[sqlx::test(migrations = "../../migrations")]
async fn recording_attempts_locks_auctions_in_id_order_as_bid_batches_do(pool: PgPool) {
    let s = Storage::from_pool(pool.clone());
    s.migrate().await.unwrap();
    let winner = s
        .create_bidder(NewBidderRow {
            name: "w",
            webhook_url: Some("http://127.0.0.1:9/notices"),
            api_key_hash: &[7; 32],
            key_prefix: "gvl_test",
            webhook_secret: "whsec_x",
        })
        .await
        .unwrap()
        .id;
    let (low, high) = (ending(&s, 300).await, ending(&s, 300).await);
    assert!(low < high);
    for a in [low, high] {
        assert!(s
            .place_bid(&bid(a, winner, "5"), None)
            .await
            .unwrap()
            .is_ok());
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let claim = s.claim_due(100).await.unwrap().expect("two auctions ended");
    let notices = claim.settle(30).await.unwrap().notices;
    let of = |a: AuctionId| {
        notices
            .iter()
            .find(|n| matches!(&n.notice, Notice::Won(w) if w.auction_id == a))
            .map(|n| (Outbox::Wins, n.id))
            .unwrap()
    };
    // A bid batch holds the lower auction (a late bid still locks a closed auction).
    let mut batch = crate::common::hold_lock(&pool, low).await;
    // The attempts, the higher auction first.
    let recording = tokio::spawn({
        let s = s.clone();
        let attempts = vec![
            (of(high), Attempt::Delivered),
            (of(low), Attempt::Delivered),
        ];
        async move { s.record_attempts(&attempts).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Waiting for the lower auction, it holds no higher one: the batch's next lock is
    // free, where taking it in the other order would deadlock.
    sqlx::query("SELECT id FROM auctions WHERE id = $1 FOR UPDATE NOWAIT")
        .bind(high.get())
        .execute(&mut *batch)
        .await
        .expect("the recording holds a higher auction while waiting for a lower one");
    batch.commit().await.unwrap();
    recording.await.unwrap().unwrap();
    for a in [low, high] {
        let notice: String = sqlx::query_scalar("SELECT notice FROM auctions WHERE id = $1")
            .bind(a.get())
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(notice, "delivered");
    }
}
