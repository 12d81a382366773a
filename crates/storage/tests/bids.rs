//! The bid transaction against a real PostgreSQL.

use chrono::{Duration, Utc};
use gavel_domain::{AuctionKind, AuctionStatus, BidRejection, DomainError, Money, NewAuctionInput};
use gavel_storage::{NewBidder, Storage, StorageError};
use sqlx::PgPool;

fn m(s: &str) -> Money {
    s.parse().unwrap()
}

async fn setup(pool: PgPool, kind: AuctionKind) -> (Storage, i64, i64, i64) {
    let s = Storage::from_pool(pool);
    s.migrate().await.unwrap();
    let mut ids = Vec::new();
    for (i, hash) in [[1u8; 32], [2u8; 32]].iter().enumerate() {
        let b = s
            .create_bidder(NewBidder {
                name: &format!("b{i}"),
                webhook_url: None,
                api_key_hash: hash,
                webhook_secret: "whsec_x",
            })
            .await
            .unwrap();
        ids.push(b.id);
    }
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
    let a = s.create_auction(&a).await.unwrap();
    assert_eq!(a.status(), AuctionStatus::Open);
    (s, a.id, ids[0], ids[1])
}

fn rejection(e: StorageError) -> BidRejection {
    match e {
        StorageError::Domain(DomainError::BidRejected(r)) => r,
        other => panic!("unexpected {other:?}"),
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn english_bids_update_the_running_highest(pool: PgPool) {
    let (s, auction, b1, b2) = setup(pool, AuctionKind::English).await;
    let first = s.place_bid(auction, b1, m("1")).await.unwrap();
    assert!(first.becomes_highest);
    assert_eq!(first.bid_count, 1);
    let r = rejection(s.place_bid(auction, b2, m("1.0099")).await.unwrap_err());
    assert_eq!(
        r,
        BidRejection::TooLow {
            min_amount: m("1.01").as_decimal()
        }
    );
    let second = s.place_bid(auction, b2, m("1.01")).await.unwrap();
    assert!(second.bid.id > first.bid.id);
    let a = s.get_auction(auction).await.unwrap();
    assert_eq!(a.bid_count, 2);
    assert_eq!(a.highest_bid_id, Some(second.bid.id));
    assert_eq!(a.highest_bidder_id, Some(b2));
    assert_eq!(a.highest_amount, Some(m("1.01").as_decimal()));
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
    s.place_bid(auction, b1, m("5")).await.unwrap();
    let r = rejection(s.place_bid(auction, b1, m("6")).await.unwrap_err());
    assert_eq!(r, BidRejection::AlreadyBid);
    // Lower than the highest is fine on sealed kinds; it does not become the highest.
    let low = s.place_bid(auction, b2, m("2")).await.unwrap();
    assert!(!low.becomes_highest);
    let a = s.get_auction(auction).await.unwrap();
    assert_eq!(a.highest_amount, Some(m("5").as_decimal()));
    assert_eq!(a.bid_count, 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_auctions_are_not_found(pool: PgPool) {
    let (s, _, b1, _) = setup(pool, AuctionKind::English).await;
    assert!(matches!(
        s.place_bid(999_999, b1, m("5")).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        s.get_auction(999_999).await,
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
