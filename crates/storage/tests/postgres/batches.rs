//! Group commit: bids that arrive together are decided together, each on its own merits.

use crate::common::{auction, bid, bidder, m};
use gavel_domain::{AuctionId, AuctionKind, BidRejection, BidRequest, BidderId};
use gavel_storage::{BatchSettings, Storage, StorageError};
use sqlx::PgPool;

async fn storage(pool: PgPool, batch: BatchSettings) -> Storage {
    let s = Storage::from_pool(pool).with_batching(batch);
    s.migrate().await.unwrap();
    s
}

#[sqlx::test(migrations = "../../migrations")]
async fn bids_sent_together_are_decided_in_order_per_auction(pool: PgPool) {
    // One worker, so everything queued while the first transaction runs forms one batch.
    let s = storage(
        pool,
        BatchSettings {
            workers: 1,
            ..Default::default()
        },
    )
    .await;
    let (b1, b2) = (bidder(&s, 1).await, bidder(&s, 2).await);
    let english = auction(&s, AuctionKind::English).await;
    let sealed = auction(&s, AuctionKind::SecondPrice).await;
    let reqs = [
        bid(english, b1, "1"),
        bid(sealed, b1, "5"),
        bid(english, b2, "1.005"), // below 1 + 0.01: too low after the first
        bid(english, b2, "2"),
        bid(sealed, b1, "6"), // a second sealed bid from b1
        bid(sealed, b2, "5"), // a tie does not displace the earlier highest
        bid(AuctionId::new(999_999).unwrap(), b1, "1"),
    ];
    let decisions = futures_join(&s, &reqs).await;
    let ids: Vec<_> = decisions
        .iter()
        .map(|d| d.as_ref().ok().map(|p| p.bid.id))
        .collect();
    assert!(decisions[0].is_ok() && decisions[1].is_ok() && decisions[3].is_ok());
    assert_eq!(
        decisions[2].as_ref().unwrap_err(),
        &BidRejection::TooLow {
            min_amount: m("1.01").as_decimal()
        }
    );
    assert_eq!(
        decisions[4].as_ref().unwrap_err(),
        &BidRejection::AlreadyBid
    );
    assert!(decisions[5].is_ok());
    assert_eq!(
        decisions[6].as_ref().unwrap_err(),
        &BidRejection::UnknownAuction
    );
    assert!(ids[0] < ids[3], "ids rise with arrival: {ids:?}");
    let e = s.get_auction(english).await.unwrap();
    assert_eq!(e.bid_count, 2);
    assert_eq!(e.highest.unwrap().bid_id, ids[3].unwrap());
    assert_eq!(e.highest.unwrap().amount, m("2"));
    let sealed_now = s.get_auction(sealed).await.unwrap();
    assert_eq!(sealed_now.bid_count, 2);
    assert_eq!(sealed_now.highest.unwrap().bid_id, ids[1].unwrap());
    assert_eq!(decisions[5].as_ref().unwrap().bid_count, 2);
    assert!(!decisions[5].as_ref().unwrap().accepted.becomes_highest);
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_failing_bid_does_not_fail_its_neighbours(pool: PgPool) {
    // Nothing a bid can carry past the domain fails its insert any more (the bids' foreign
    // keys are gone): a trigger of this test's own refuses one bidder's bids.
    for sql in [
        "CREATE FUNCTION refuse_ghost() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.bidder_id = 777777 THEN RAISE EXCEPTION 'ghost bidder'; END IF;
             RETURN NEW;
         END $$",
        "CREATE TRIGGER refuse_ghost BEFORE INSERT ON bids
         FOR EACH ROW EXECUTE FUNCTION refuse_ghost()",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let s = storage(
        pool,
        BatchSettings {
            workers: 1,
            ..Default::default()
        },
    )
    .await;
    let b1 = bidder(&s, 1).await;
    let a = auction(&s, AuctionKind::English).await;
    // Only the refused bid may fail.
    let ghost = BidderId::new(777_777).unwrap();
    let reqs = [bid(a, b1, "1"), bid(a, ghost, "2"), bid(a, b1, "3")];
    let results = join_raw(&s, &reqs).await;
    assert!(results[0].as_ref().unwrap().is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StorageError::Internal(_))),
        "{results:?}"
    );
    assert!(results[2].as_ref().unwrap().is_ok(), "{results:?}");
    let now = s.get_auction(a).await.unwrap();
    assert_eq!(now.bid_count, 2);
    assert_eq!(now.highest.unwrap().amount, m("3"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_full_queue_is_busy_at_once(pool: PgPool) {
    let s = storage(
        pool.clone(),
        BatchSettings {
            workers: 1,
            queue: 1,
            max_batch: 1,
        },
    )
    .await;
    let b1 = bidder(&s, 1).await;
    let a = auction(&s, AuctionKind::English).await;
    // Hold the auction's row lock so the worker's transaction waits.
    let held = gavel_devkit::hold_row_lock(&pool, a.get()).await;
    let first = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(a, b1, "1"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let second = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(a, b1, "2"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // The worker holds the first, the queue the second: a third is turned away at once.
    let third = s.place_bid(&bid(a, b1, "3"), None).await;
    assert!(matches!(third, Err(StorageError::Busy)), "{third:?}");
    held.rollback().await.unwrap();
    assert!(first.await.unwrap().unwrap().is_ok());
    assert!(second.await.unwrap().unwrap().is_ok());
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bid_whose_sender_stopped_waiting_is_not_stored(pool: PgPool) {
    let s = storage(pool.clone(), BatchSettings::default()).await;
    let b1 = bidder(&s, 1).await;
    let a = auction(&s, AuctionKind::English).await;
    let held = gavel_devkit::hold_row_lock(&pool, a.get()).await;
    // The request gives up (as an HTTP timeout does) while its batch waits for the lock.
    let waited = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        s.place_bid(&bid(a, b1, "5"), None),
    )
    .await;
    assert!(waited.is_err());
    held.rollback().await.unwrap();
    // The next bid goes through the same worker, after the abandoned one.
    assert!(s.place_bid(&bid(a, b1, "6"), None).await.unwrap().is_ok());
    let now = s.get_auction(a).await.unwrap();
    assert_eq!(now.bid_count, 1, "the abandoned bid was stored");
    assert_eq!(now.highest.unwrap().amount, m("6"));
}

/// Sends every request while the only worker is busy elsewhere, so they queue up and
/// form one batch; returns the decisions in request order.
async fn futures_join(
    s: &Storage,
    reqs: &[BidRequest],
) -> Vec<Result<gavel_domain::PlacedBid, BidRejection>> {
    join_raw(s, reqs)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

async fn join_raw(
    s: &Storage,
    reqs: &[BidRequest],
) -> Vec<Result<gavel_storage::Decision, StorageError>> {
    // Keep the worker busy on a bid whose auction row another transaction holds.
    let pool = s.pool().clone();
    let blocker = auction(s, AuctionKind::English).await;
    let someone = bidder(s, 99).await;
    let held = gavel_devkit::hold_row_lock(&pool, blocker.get()).await;
    let busy = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(blocker, someone, "1"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let all = tokio::spawn({
        let s = s.clone();
        let reqs = reqs.to_vec();
        async move {
            let futs = reqs.iter().map(|r| s.place_bid(r, None));
            futures::future::join_all(futs).await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    held.rollback().await.unwrap();
    busy.await.unwrap().unwrap().unwrap();
    all.await.unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn keyed_bids_share_the_batch_and_one_key_twice_is_decided_once(pool: PgPool) {
    use gavel_storage::{IdempotencyKey, Keyed};
    let s = storage(
        pool.clone(),
        BatchSettings {
            workers: 1,
            ..Default::default()
        },
    )
    .await;
    let (b1, b2) = (bidder(&s, 1).await, bidder(&s, 2).await);
    let a = auction(&s, AuctionKind::English).await;
    // The worker waits on a held row lock; everything sent meanwhile forms one batch.
    let blocker = auction(&s, AuctionKind::English).await;
    let held = gavel_devkit::hold_row_lock(&pool, blocker.get()).await;
    let busy = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(blocker, b2, "1"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let keyed = |req: BidRequest, key: &'static str, hash: u8| {
        let s = s.clone();
        tokio::spawn(async move {
            s.place_bid_once(
                &req,
                IdempotencyKey {
                    key,
                    request_hash: &[hash; 32],
                },
                None,
            )
            .await
        })
    };
    let first = keyed(bid(a, b1, "5"), "k", 1);
    let again = keyed(bid(a, b1, "5"), "k", 1);
    let reused = keyed(bid(a, b1, "7"), "k", 2);
    let plain = tokio::spawn({
        let s = s.clone();
        async move { s.place_bid(&bid(a, b2, "6"), None).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    held.rollback().await.unwrap();
    busy.await.unwrap().unwrap().unwrap();

    let Keyed::Fresh(Ok(placed)) = first.await.unwrap().unwrap() else {
        panic!("the first keyed bid was not accepted")
    };
    match again.await.unwrap().unwrap() {
        Keyed::Replay(gavel_domain::BidOutcome::Accepted { bid, .. }) => {
            assert_eq!(bid.id, placed.bid.id)
        }
        other => panic!("the repeat in the same batch: {other:?}"),
    }
    assert!(matches!(reused.await.unwrap().unwrap(), Keyed::KeyReused));
    assert!(plain.await.unwrap().unwrap().is_ok());
    // Once: the keyed bid and the plain one, and the key's outcome stored.
    assert_eq!(s.get_auction(a).await.unwrap().bid_count, 2);
    let repeat = s
        .place_bid_once(
            &bid(a, b1, "5"),
            IdempotencyKey {
                key: "k",
                request_hash: &[1; 32],
            },
            None,
        )
        .await
        .unwrap();
    assert!(
        matches!(repeat, Keyed::Replay(gavel_domain::BidOutcome::Accepted { ref bid, .. }) if bid.id == placed.bid.id),
        "{repeat:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_key_written_meanwhile_by_another_transaction_undoes_the_decision(pool: PgPool) {
    use gavel_storage::{IdempotencyKey, Keyed};
    use sqlx::Connection as _;
    let s = storage(pool.clone(), BatchSettings::default()).await;
    let b1 = bidder(&s, 1).await;
    let (a, other) = (
        auction(&s, AuctionKind::English).await,
        auction(&s, AuctionKind::English).await,
    );
    // Another transaction writes the key (as a bid on another auction would) and has not
    // committed: the batch cannot see it when it looks, and meets it when it writes.
    let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    let mut elsewhere = conn.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (bidder_id, key, request_hash, outcome)
         VALUES ($1, 'k', $2, '{\"refused\": \"already_bid\"}')",
    )
    .bind(b1.get())
    .bind(vec![2u8; 32])
    .execute(&mut *elsewhere)
    .await
    .unwrap();
    let keyed = tokio::spawn({
        let s = s.clone();
        async move {
            s.place_bid_once(
                &bid(a, b1, "5"),
                IdempotencyKey {
                    key: "k",
                    request_hash: &[1; 32],
                },
                None,
            )
            .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!keyed.is_finished(), "the key's write did not wait");
    elsewhere.commit().await.unwrap();
    // Decided again, it finds the key stored with another request.
    let answer = keyed.await.unwrap().unwrap();
    assert!(matches!(answer, Keyed::KeyReused), "{answer:?}");
    assert_eq!(s.get_auction(a).await.unwrap().bid_count, 0);
    assert_eq!(s.get_auction(other).await.unwrap().bid_count, 0);
}

/// Batches that follow one another end with `COMMIT; BEGIN` and run in the transaction
/// begun there: every bid of a long queue is committed, and no connection is left idle in
/// a transaction once the queue is empty.
#[sqlx::test(migrations = "../../migrations")]
async fn chained_batches_commit_everything_and_leave_no_transaction_open(pool: PgPool) {
    chained_batches(pool, 1).await;
}

/// The same with two workers sharing the queue (one may begin a transaction for bids the
/// other takes, and must end it before it waits: that window is narrow, so this checks the
/// outcome rather than the path).
#[sqlx::test(migrations = "../../migrations")]
async fn two_workers_chain_batches_and_leave_no_transaction_open(pool: PgPool) {
    chained_batches(pool, 2).await;
}

async fn chained_batches(pool: PgPool, workers: usize) {
    let s = storage(
        pool.clone(),
        BatchSettings {
            workers,
            max_batch: 3,
            ..Default::default()
        },
    )
    .await;
    let (b1, b2) = (bidder(&s, 1).await, bidder(&s, 2).await);
    let auctions = [
        auction(&s, AuctionKind::English).await,
        auction(&s, AuctionKind::English).await,
    ];
    let reqs: Vec<BidRequest> = (0..30)
        .map(|i| {
            let by = if i % 2 == 0 { b1 } else { b2 };
            bid(auctions[i % 2], by, &(i + 1).to_string())
        })
        .collect();
    let decisions = futures_join(&s, &reqs).await;
    assert!(decisions.iter().all(|d| d.is_ok()), "{decisions:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM bids WHERE auction_id = ANY($1)")
        .bind(auctions.map(|a| a.get()).to_vec())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 30);
    let mut open: i64 = -1;
    for _ in 0..40 {
        open = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0, "a connection idles in a transaction");
}
