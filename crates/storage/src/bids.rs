//! Bids: the atomic decision, and reading them back.

use chrono::{DateTime, Utc};
use gavel_domain::{decide_bid, AuctionKind, BidContext, DomainError, Money};
use rust_decimal::Decimal;

use sqlx::{PgConnection, Postgres, Transaction};

use crate::auctions::lock_auction;
use crate::idempotency::{IdempotencyKey, Idempotent, StoredResponse};
use crate::{Storage, StorageError};

/// A stored bid.
#[derive(Debug, Clone, PartialEq)]
pub struct BidRecord {
    /// Id; ids of one auction's accepted english bids rise with their amounts.
    pub id: i64,
    /// Auction.
    pub auction_id: i64,
    /// Bidder.
    pub bidder_id: i64,
    /// Amount.
    pub amount: Decimal,
    /// When it was accepted (database clock).
    pub created_at: DateTime<Utc>,
}

/// An accepted bid and what it did to its auction.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBid {
    /// The bid as stored.
    pub bid: BidRecord,
    /// Its auction's kind.
    pub kind: AuctionKind,
    /// The bid is the auction's new highest.
    pub becomes_highest: bool,
    /// The auction's new end when the bid extended it.
    pub new_ends_at: Option<DateTime<Utc>>,
    /// The auction's increment.
    pub min_increment: Money,
    /// The auction's end after this bid.
    pub ends_at: DateTime<Utc>,
    /// The auction's bid count after this bid.
    pub bid_count: i64,
}

impl Storage {
    /// Decides and records a bid in one transaction.
    ///
    /// The auction row is locked first (`FOR UPDATE`), so the decision sees the latest
    /// committed highest bid and every concurrent bid on the same auction, from any
    /// instance, waits its turn. The bid id is drawn while the lock is held, so accepted
    /// english bids ordered by id rise strictly.
    pub async fn place_bid(
        &self,
        auction_id: i64,
        bidder_id: i64,
        amount: Money,
    ) -> Result<PlacedBid, StorageError> {
        self.ensure_ready()?;
        let mut tx = self.pool.begin().await?;
        let placed = decide_and_record(&mut tx, auction_id, bidder_id, amount).await?;
        tx.commit().await?;
        Ok(placed)
    }

    /// [`Storage::place_bid`] under an idempotency key.
    ///
    /// The key row is inserted first in the same transaction: a concurrent repeat waits on
    /// its unique index until this transaction ends, then finds the stored answer. `render`
    /// turns the outcome into the answer to store; `None` (for transient failures) stores
    /// nothing, so a retry may succeed.
    pub async fn place_bid_idempotent(
        &self,
        auction_id: i64,
        bidder_id: i64,
        amount: Money,
        key: IdempotencyKey<'_>,
        render: impl FnOnce(&Result<PlacedBid, StorageError>) -> Option<StoredResponse>,
    ) -> Result<Idempotent<Result<PlacedBid, StorageError>>, StorageError> {
        self.ensure_ready()?;
        let mut tx: Transaction<'_, Postgres> = self.pool.begin().await?;
        // A placeholder answer, replaced below before commit; never visible to others.
        let claimed = sqlx::query_scalar!(
            r#"INSERT INTO idempotency_keys (bidder_id, key, request_hash, status, response)
               VALUES ($1, $2, $3, 0, 'null')
               ON CONFLICT (bidder_id, key) DO NOTHING
               RETURNING 1 AS "one!""#,
            bidder_id,
            key.key,
            key.request_hash,
        )
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !claimed {
            let stored = sqlx::query!(
                r#"SELECT request_hash, status, response AS "response!: serde_json::Value"
                   FROM idempotency_keys WHERE bidder_id = $1 AND key = $2"#,
                bidder_id,
                key.key,
            )
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return match stored {
                // Pruned between the two statements: vanishingly rare; let the client retry.
                None => Err(StorageError::Unavailable),
                Some(s) if s.request_hash != key.request_hash => Ok(Idempotent::KeyReused),
                Some(s) => Ok(Idempotent::Replay(StoredResponse {
                    status: s.status as u16,
                    body: s.response,
                })),
            };
        }
        let outcome = decide_and_record(&mut tx, auction_id, bidder_id, amount).await;
        // `render` stores nothing for transient failures, so their transaction is rolled back.
        match render(&outcome) {
            Some(answer) => {
                sqlx::query!(
                    "UPDATE idempotency_keys SET status = $3, response = $4
                     WHERE bidder_id = $1 AND key = $2",
                    bidder_id,
                    key.key,
                    answer.status as i16,
                    answer.body,
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            None => tx.rollback().await.unwrap_or(()),
        }
        Ok(Idempotent::Fresh(outcome))
    }
}

/// The decision itself, inside the caller's transaction.
async fn decide_and_record(
    tx: &mut PgConnection,
    auction_id: i64,
    bidder_id: i64,
    amount: Money,
) -> Result<PlacedBid, StorageError> {
    let locked = lock_auction(tx, auction_id).await?;
    let state = locked.state();
    // A fresh statement after the lock: its snapshot sees every bid committed before.
    let bidder_already_bid = if state.kind.is_sealed() {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM bids WHERE auction_id = $1 AND bidder_id = $2)
               AS "exists!""#,
            auction_id,
            bidder_id
        )
        .fetch_one(&mut *tx)
        .await?
    } else {
        false
    };
    let ctx = BidContext {
        auction: &state,
        now: locked.db_now,
        bidder_already_bid,
    };
    let accepted = decide_bid(&ctx, amount).map_err(DomainError::BidRejected)?;
    let row = sqlx::query!(
        r#"WITH bid AS (
               INSERT INTO bids (auction_id, bidder_id, amount, created_at)
               VALUES ($1, $2, $3, $4)
               RETURNING id, created_at
           )
           UPDATE auctions SET
               bid_count = bid_count + 1,
               highest_bid_id = CASE WHEN $5 THEN (SELECT id FROM bid) ELSE highest_bid_id END,
               highest_bidder_id = CASE WHEN $5 THEN $2 ELSE highest_bidder_id END,
               highest_amount = CASE WHEN $5 THEN $3 ELSE highest_amount END,
               ends_at = COALESCE($6, ends_at)
           WHERE id = $1
           RETURNING (SELECT id FROM bid) AS "bid_id!",
                     (SELECT created_at FROM bid) AS "created_at!",
                     ends_at, bid_count"#,
        auction_id,
        bidder_id,
        amount.as_decimal(),
        locked.db_now,
        accepted.becomes_highest,
        accepted.new_ends_at,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(PlacedBid {
        bid: BidRecord {
            id: row.bid_id,
            auction_id,
            bidder_id,
            amount: amount.as_decimal(),
            created_at: row.created_at,
        },
        kind: state.kind,
        min_increment: state.min_increment,
        becomes_highest: accepted.becomes_highest,
        new_ends_at: accepted.new_ends_at,
        ends_at: row.ends_at,
        bid_count: row.bid_count,
    })
}

impl Storage {
    /// Bids of an auction newest first; only `only_bidder`'s when given.
    pub async fn list_bids(
        &self,
        auction_id: i64,
        only_bidder: Option<i64>,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<BidRecord>, StorageError> {
        self.ensure_ready()?;
        let rows = sqlx::query_as!(
            BidRecord,
            r#"SELECT id, auction_id, bidder_id, amount, created_at FROM bids
               WHERE auction_id = $1
                 AND ($2::BIGINT IS NULL OR bidder_id = $2)
                 AND ($3::BIGINT IS NULL OR id < $3)
               ORDER BY id DESC LIMIT $4"#,
            auction_id,
            only_bidder,
            before_id,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
