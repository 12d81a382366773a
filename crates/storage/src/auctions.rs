//! Auctions as stored, with their running highest bid.

use chrono::{DateTime, Utc};
use gavel_domain::{AuctionKind, AuctionState, AuctionStatus, Money, NewAuction};
use rust_decimal::Decimal;

use crate::{Storage, StorageError};

/// An auction row, read together with the database clock that decides its status.
#[derive(Debug, Clone, PartialEq)]
pub struct AuctionRecord {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// `english`, `first_price` or `second_price`.
    pub kind: String,
    /// Currency code.
    pub currency: String,
    /// Reserve price.
    pub reserve_price: Decimal,
    /// English increment.
    pub min_increment: Decimal,
    /// Anti-sniping window.
    pub extend_secs: i32,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (moved by anti-sniping).
    pub ends_at: DateTime<Utc>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Highest bid id.
    pub highest_bid_id: Option<i64>,
    /// Highest bidder.
    pub highest_bidder_id: Option<i64>,
    /// Highest amount.
    pub highest_amount: Option<Decimal>,
    /// Accepted bids.
    pub bid_count: i64,
    /// When it was settled.
    pub closed_at: Option<DateTime<Utc>>,
    /// Winner, once settled.
    pub winner_bidder_id: Option<i64>,
    /// Winning bid, once settled.
    pub winning_bid_id: Option<i64>,
    /// Price the winner pays.
    pub clearing_price: Option<Decimal>,
    /// Win-notice delivery state.
    pub notice: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The database clock when the row was read.
    pub db_now: DateTime<Utc>,
}

/// Which auctions a listing wants, by status.
pub type StatusFilter = Option<AuctionStatus>;

impl AuctionRecord {
    /// The kind (rows are checked by a constraint, so unknown text cannot occur).
    pub fn kind(&self) -> AuctionKind {
        AuctionKind::parse(&self.kind).unwrap_or_default()
    }

    /// The rule-relevant state.
    pub fn state(&self) -> AuctionState {
        AuctionState {
            kind: self.kind(),
            reserve_price: Money::from_decimal(self.reserve_price).unwrap_or_default(),
            min_increment: Money::from_decimal(self.min_increment).unwrap_or_default(),
            extend_secs: self.extend_secs,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            cancelled: self.cancelled_at.is_some(),
            closed: self.closed_at.is_some(),
            highest: self
                .highest_amount
                .and_then(|d| Money::from_decimal(d).ok()),
        }
    }

    /// Status by the database clock at read time.
    pub fn status(&self) -> AuctionStatus {
        self.state().status(self.db_now)
    }
}

impl Storage {
    /// Stores a validated auction.
    pub async fn create_auction(&self, a: &NewAuction) -> Result<AuctionRecord, StorageError> {
        self.ensure_ready()?;
        let row = sqlx::query_as!(
            AuctionRecord,
            r#"INSERT INTO auctions (title, kind, currency, reserve_price, min_increment,
                                     extend_secs, starts_at, ends_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               RETURNING id, title, kind, currency, reserve_price, min_increment, extend_secs,
                         starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                         highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                         clearing_price, notice, created_at, now() AS "db_now!""#,
            a.title,
            a.kind.as_str(),
            a.currency,
            a.reserve_price.as_decimal(),
            a.min_increment.as_decimal(),
            a.extend_secs,
            a.starts_at,
            a.ends_at,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    /// One auction.
    pub async fn get_auction(&self, id: i64) -> Result<AuctionRecord, StorageError> {
        self.ensure_ready()?;
        sqlx::query_as!(
            AuctionRecord,
            r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                      starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                      highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                      clearing_price, notice, created_at, now() AS "db_now!"
               FROM auctions WHERE id = $1"#,
            id
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StorageError::NotFound)
    }

    /// Cancels a scheduled or open auction, under its row lock so no bid slips in after.
    pub async fn cancel_auction(&self, id: i64) -> Result<AuctionRecord, StorageError> {
        self.ensure_ready()?;
        let mut tx = self.pool.begin().await?;
        let locked = lock_auction(&mut tx, id).await?;
        locked.state().check_cancellable(locked.db_now)?;
        let row = sqlx::query_as!(
            AuctionRecord,
            r#"UPDATE auctions SET cancelled_at = $2::TIMESTAMPTZ WHERE id = $1
               RETURNING id, title, kind, currency, reserve_price, min_increment, extend_secs,
                         starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                         highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                         clearing_price, notice, created_at, $2::TIMESTAMPTZ AS "db_now!""#,
            id,
            locked.db_now,
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Auctions newest first, optionally of one status (by the database clock).
    pub async fn list_auctions(
        &self,
        status: StatusFilter,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<AuctionRecord>, StorageError> {
        self.ensure_ready()?;
        let status = status.map(|s| s.as_str());
        let rows = sqlx::query_as!(
            AuctionRecord,
            r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                      starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                      highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                      clearing_price, notice, created_at, now() AS "db_now!"
               FROM auctions
               WHERE ($1::BIGINT IS NULL OR id < $1)
                 AND ($2::TEXT IS NULL OR $2 = CASE
                       WHEN cancelled_at IS NOT NULL THEN 'cancelled'
                       WHEN closed_at IS NOT NULL THEN 'closed'
                       WHEN now() < starts_at THEN 'scheduled'
                       WHEN now() < ends_at THEN 'open'
                       ELSE 'closing' END)
               ORDER BY id DESC LIMIT $3"#,
            before_id,
            status,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}

/// Locks auction `id`'s row for the rest of the transaction and reads it, with the
/// database clock taken once the lock is held (`clock_timestamp()`, not the transaction's
/// start: the wait for the lock may have been long).
pub(crate) async fn lock_auction(
    conn: &mut sqlx::PgConnection,
    id: i64,
) -> Result<AuctionRecord, StorageError> {
    sqlx::query_as!(
        AuctionRecord,
        r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                  starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                  highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                  clearing_price, notice, created_at, clock_timestamp() AS "db_now!"
           FROM auctions WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(StorageError::NotFound)
}
