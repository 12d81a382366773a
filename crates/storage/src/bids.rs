//! Bids: the atomic decision, and reading them back.

use chrono::{DateTime, Utc};
use gavel_domain::{decide_bid, AuctionKind, BidContext, DomainError, Money};
use rust_decimal::Decimal;

use crate::{AuctionRecord, Storage, StorageError};

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
        // clock_timestamp(), not now(): the time after the lock was granted, not when the
        // transaction began waiting for it.
        let locked = sqlx::query_as!(
            AuctionRecord,
            r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                      starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                      highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                      clearing_price, notice, created_at, clock_timestamp() AS "db_now!"
               FROM auctions WHERE id = $1 FOR UPDATE"#,
            auction_id
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
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
        tx.commit().await?;
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
