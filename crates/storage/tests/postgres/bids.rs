//! The bid transaction against a real PostgreSQL.

use crate::common::{auction, bid, bidder, hold_lock, m};
use gavel_domain::{
    AuctionId, AuctionKind, AuctionStatus, BidRejection, BidRequest, BidderId, PlacedBid,
};
use gavel_storage::{Storage, StorageError};
use sqlx::PgPool;

/// Places a bid that must be accepted.
async fn accepted(s: &Storage, req: BidRequest) -> PlacedBid {
    s.place_bid(&req, None).await.unwrap().unwrap()
}

/// Places a bid that must be refused, and says why.
async fn refused(s: &Storage, req: BidRequest) -> BidRejection {
    s.place_bid(&req, None).await.unwrap().unwrap_err()
}

async fn setup(pool: PgPool, kind: AuctionKind) -> (Storage, AuctionId, BidderId, BidderId) {
    let s = Storage::from_pool(pool);
    s.migrate().await.unwrap();
    let (b1, b2) = (bidder(&s, 1).await, bidder(&s, 2).await);
    let a = auction(&s, kind).await;
    assert_eq!(
        s.get_auction(a).await.unwrap().status(),
        AuctionStatus::Open
    );
    (s, a, b1, b2)
}

#[sqlx::test(migrations = "../../migrations")]
async fn english_bids_update_the_running_highest(pool: PgPool) {
    let (s, auction, b1, b2) = setup(pool, AuctionKind::English).await;
    let first = accepted(&s, bid(auction, b1, "1")).await;
    assert!(first.accepted.becomes_highest);
    assert_eq!(first.bid_count, 1);
    let r = refused(&s, bid(auction, b2, "1.0099")).await;
    assert_eq!(
        r,
        BidRejection::TooLow {
            min_amount: m("1.01").as_decimal()
        }
    );
    let second = accepted(&s, bid(auction, b2, "1.01")).await;
    assert!(second.bid.id > first.bid.id);
    let a = s.get_auction(auction).await.unwrap();
    assert_eq!(a.bid_count, 2);
    let highest = a.highest.unwrap();
    assert_eq!(highest.bid_id, second.bid.id);
    assert_eq!(highest.bidder_id, b2);
    assert_eq!(highest.amount, m("1.01"));
    let mine = s.list_bids(auction, Some(b1), 10, None).await.unwrap();
    assert_eq!(mine.len(), 1);
    let page = s
        .list_bids(auction, None, 1, Some(second.bid.id))
        .await
        .unwrap();
    assert_eq!(page[0].id, first.bid.id);
}

#[sqlx::test(migrations = "../../migrations")]
async fn sealed_bids_one_per_bidder(pool: PgPool) {
    let (s, auction, b1, b2) = setup(pool, AuctionKind::FirstPrice).await;
    accepted(&s, bid(auction, b1, "5")).await;
    let r = refused(&s, bid(auction, b1, "6")).await;
    assert_eq!(r, BidRejection::AlreadyBid);
    // Lower than the highest is fine on sealed kinds; it does not become the highest.
    let low = accepted(&s, bid(auction, b2, "2")).await;
    assert!(!low.accepted.becomes_highest);
    let a = s.get_auction(auction).await.unwrap();
    assert_eq!(a.highest.map(|h| h.amount), Some(m("5")));
    assert_eq!(a.bid_count, 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_auctions_are_not_found(pool: PgPool) {
    let (s, _, b1, _) = setup(pool, AuctionKind::English).await;
    let missing = AuctionId::new(999_999).unwrap();
    assert_eq!(
        refused(&s, bid(missing, b1, "5")).await,
        BidRejection::UnknownAuction
    );
    assert!(matches!(
        s.get_auction(missing).await,
        Err(StorageError::NotFound)
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_closed_pool_is_unavailable_not_internal(pool: PgPool) {
    let (s, auction, _, _) = setup(pool, AuctionKind::English).await;
    s.close().await;
    assert!(matches!(
        s.get_auction(auction).await,
        Err(StorageError::Unavailable)
    ));
    assert!(matches!(s.ping().await, Err(StorageError::Unavailable)));
}

#[sqlx::test(migrations = false)]
async fn nothing_is_served_before_migrations(pool: PgPool) {
    let s = Storage::from_pool(pool);
    assert!(matches!(s.ping().await, Err(StorageError::Unavailable)));
    s.migrate().await.unwrap();
    // Migrating twice (a second instance starting) is harmless.
    s.migrate().await.unwrap();
    s.ping().await.unwrap();
}

#[sqlx::test(migrations = false)]
async fn two_instances_migrating_at_once_both_succeed(pool: PgPool) {
    let options = pool.connect_options().as_ref().clone();
    let make = || {
        Storage::from_pool(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_lazy_with(options.clone()),
        )
    };
    let (a, b) = (make(), make());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    a.ping().await.unwrap();
    b.ping().await.unwrap();
}

/// The bids' foreign keys are gone (a check per bid); what they kept, a bid's auction and
/// bidder, cannot be deleted from under it: auctions refuse deletion, bidders are held by
/// their API keys.
#[sqlx::test(migrations = "../../migrations")]
async fn a_bids_auction_and_bidder_cannot_be_deleted(pool: PgPool) {
    let (s, auction, b1, _) = setup(pool.clone(), AuctionKind::English).await;
    accepted(&s, bid(auction, b1, "1")).await;
    let unbid = crate::common::auction(&s, AuctionKind::FirstPrice).await;
    // restrict_violation from the auctions' trigger; foreign_key_violation from bidder_keys.
    for (sql, code) in [
        (
            format!("DELETE FROM auctions WHERE id = {}", auction.get()),
            "23001",
        ),
        (
            format!("DELETE FROM auctions WHERE id = {}", unbid.get()),
            "23001",
        ),
        ("TRUNCATE auctions CASCADE".to_string(), "23001"),
        (
            format!("DELETE FROM bidders WHERE id = {}", b1.get()),
            "23503",
        ),
    ] {
        let err = sqlx::query(&sql).execute(&pool).await.unwrap_err();
        let got = err.as_database_error().and_then(|e| e.code());
        assert_eq!(got.as_deref(), Some(code), "{sql}: {err}");
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM bids")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_past_the_end_waits_for_a_bid_that_may_have_moved_it(pool: PgPool) {
    let (s, auction, b1, _) = setup(pool.clone(), AuctionKind::English).await;
    sqlx::query(
        "UPDATE auctions SET ends_at = now() - interval '1 second', extend_secs = 30
         WHERE id = $1",
    )
    .bind(auction.get())
    .execute(&pool)
    .await
    .unwrap();
    // A transaction that holds the lock and moves the end on, as an extending bid decided
    // before the end does: the late bid must see the end it commits.
    let mut extending = hold_lock(&pool, auction).await;
    sqlx::query("UPDATE auctions SET ends_at = now() + interval '1 minute' WHERE id = $1")
        .bind(auction.get())
        .execute(&mut *extending)
        .await
        .unwrap();
    let late = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(auction, b1, "5"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !late.is_finished(),
        "answered before the extension committed"
    );
    extending.commit().await.unwrap();
    let placed = late.await.unwrap().unwrap().unwrap();
    assert_eq!(placed.bid.auction_id, auction);
}
