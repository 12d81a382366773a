//! Auctions as stored, with their running highest bid.
//!
//! Every query names the columns of [`AuctionRow`] (never `*`): sqlx reads a row by
//! position, and a column that a later release adds must not shift what this one reads
//! (rolling upgrades and rollbacks run this binary on a newer schema).

use gavel_domain::{Auction, AuctionId, AuctionStatus, LossReason, NewAuction};
use sqlx::Connection as _;

use crate::rows::AuctionRow;
use crate::{Storage, StorageError};

impl Storage {
    /// Stores a validated auction (with the others created meanwhile, in one statement).
    pub async fn create_auction(&self, a: &NewAuction) -> Result<Auction, StorageError> {
        self.db()?;
        self.creator().submit(a.clone()).await
    }

    /// One auction.
    pub async fn get_auction(&self, id: AuctionId) -> Result<Auction, StorageError> {
        self.get_auctions(&[id])
            .await?
            .pop()
            .ok_or(StorageError::NotFound)
    }

    /// The auctions of `ids` that exist, in no particular order (one statement, however
    /// many).
    pub async fn get_auctions(&self, ids: &[AuctionId]) -> Result<Vec<Auction>, StorageError> {
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        sqlx::query_as!(
            AuctionRow,
            r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                      starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                      highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                      clearing_price, notice, created_at, now() AS "db_now!"
               FROM auctions WHERE id = ANY($1)"#,
            &ids
        )
        .fetch_all(&mut *self.conn().await?)
        .await?
        .into_iter()
        .map(Auction::try_from)
        .collect()
    }

    /// Cancels a scheduled or open auction, under its row lock so no bid slips in after.
    pub async fn cancel_auction(&self, id: AuctionId) -> Result<Auction, StorageError> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await?;
        let locked = lock_auction(&mut tx, id).await?;
        locked.state().check_cancellable(locked.as_of)?;
        let row = sqlx::query_as!(
            AuctionRow,
            r#"UPDATE auctions SET cancelled_at = $2::TIMESTAMPTZ WHERE id = $1
               RETURNING id, title, kind, currency, reserve_price, min_increment, extend_secs,
                         starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                         highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                         clearing_price, notice, created_at, $2::TIMESTAMPTZ AS "db_now!""#,
            id.get(),
            locked.as_of,
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut losers = crate::losers::Losers::default();
        losers.push(id.get(), None, LossReason::Cancelled, None);
        // Due at once: the sender claims them at its next round.
        losers.queue(&mut tx, 0).await?;
        tx.commit().await?;
        row.try_into()
    }

    /// Auctions newest first, optionally of one status (by the database clock and the
    /// status rule's SQL twin, `auction_status`).
    pub async fn list_auctions(
        &self,
        status: Option<AuctionStatus>,
        limit: i64,
        before: Option<AuctionId>,
    ) -> Result<Vec<Auction>, StorageError> {
        let rows = sqlx::query_as!(
            AuctionRow,
            r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                      starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                      highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                      clearing_price, notice, created_at, now() AS "db_now!"
               FROM auctions
               WHERE ($1::BIGINT IS NULL OR id < $1)
                 AND ($2::TEXT IS NULL
                      OR auction_status(cancelled_at, closed_at, starts_at, ends_at, now()) = $2)
               ORDER BY id DESC LIMIT $3"#,
            before.map(AuctionId::get),
            status.map(|s| s.as_str()),
            limit,
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        crate::rows::all(rows)
    }
}

/// Locks auction `id`'s row for the rest of the transaction and reads it, with the
/// database clock taken once the lock is held (`clock_timestamp()`, not the transaction's
/// start: the wait for the lock may have been long).
pub(crate) async fn lock_auction(
    conn: &mut sqlx::PgConnection,
    id: AuctionId,
) -> Result<Auction, StorageError> {
    sqlx::query_as!(
        AuctionRow,
        r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                  starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                  highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                  clearing_price, notice, created_at, clock_timestamp() AS "db_now!"
           FROM auctions WHERE id = $1 FOR UPDATE"#,
        id.get()
    )
    .fetch_optional(conn)
    .await?
    .ok_or(StorageError::NotFound)?
    .try_into()
}
