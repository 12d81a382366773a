//! Auctions created together are written together, each as it was asked for.

use chrono::{Duration, Utc};
use gavel_domain::{AuctionKind, NewAuction, NewAuctionInput};
use gavel_storage::{Storage, StorageError};
use sqlx::PgPool;

use crate::common::m;

fn new_auction(title: &str) -> NewAuction {
    let now = Utc::now();
    NewAuctionInput {
        title: Some(title.into()),
        kind: Some(AuctionKind::English),
        reserve_price: Some(m("1")),
        starts_at: Some(now - Duration::minutes(1)),
        ends_at: Some(now + Duration::hours(1)),
        ..Default::default()
    }
    .validate(now)
    .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn auctions_created_at_once_each_get_their_own_row(pool: PgPool) {
    let s = Storage::from_pool(pool.clone());
    s.migrate().await.unwrap();
    let made = futures::future::join_all((0..200).map(|i| {
        let s = s.clone();
        async move {
            s.create_auction(&new_auction(&format!("auction {i}")))
                .await
        }
    }))
    .await;
    let mut ids = Vec::new();
    for (i, a) in made.into_iter().enumerate() {
        let a = a.unwrap();
        assert_eq!(a.title, format!("auction {i}"));
        assert_eq!(s.get_auction(a.id).await.unwrap().title, a.title);
        ids.push(a.id.get());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    // One transaction per statement, so its start time tells the statements apart.
    let transactions: i64 = sqlx::query_scalar("SELECT count(DISTINCT created_at) FROM auctions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        transactions < 50,
        "{transactions} transactions for 200 auctions"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_auction_the_schema_refuses_fails_alone(pool: PgPool) {
    let s = Storage::from_pool(pool);
    s.migrate().await.unwrap();
    // Past the domain's checks (as a bug would be): PostgreSQL refuses it (text holds no
    // NUL).
    let mut bad = new_auction("bad");
    bad.title = "bad\0".into();
    let (one, two) = (new_auction("good 1"), new_auction("good 2"));
    let (good1, bad, good2) = tokio::join!(
        s.create_auction(&one),
        s.create_auction(&bad),
        s.create_auction(&two),
    );
    assert_eq!(good1.unwrap().title, "good 1");
    assert_eq!(good2.unwrap().title, "good 2");
    assert!(matches!(bad, Err(StorageError::Internal(_))), "{bad:?}");
}
