//! PostgreSQL persistence for gavel. The database is the source of truth:
//! every bid is decided here, under the auction's row lock.

pub mod auctions;
mod batcher;
pub mod bidders;
pub mod bids;
mod creations;
pub mod error;
mod failover;
pub mod idempotency;
mod losers;
pub mod notices;
mod rows;
mod sent_notices;
pub mod settlement;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

pub use batcher::BatchSettings;
pub use bidders::{KeyOwner, NewBidderRow};
pub use bids::Decision;
pub use error::StorageError;
pub use idempotency::{IdempotencyKey, Keyed};
pub use notices::{Attempt, DueNotice, NoticeRef, Outbox};
pub use settlement::{Claim, SettledAuction, Settlement};

/// The embedded migrations of `migrations/` at the workspace root. A database migrated by
/// a newer release is accepted (`ignore_missing`), so rolling back to the previous binary
/// works; migrations are therefore written so the release before can run on them.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("../../migrations")
};

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections held open.
    pub max_connections: u32,
    /// How long a request waits for a connection before `database_unavailable`.
    pub acquire_timeout: Duration,
}

/// The connection pool's state, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub open: u32,
    /// Connections open and idle.
    pub idle: usize,
    /// Most connections the pool opens.
    pub max: u32,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    pool: PgPool,
    /// Set once migrations have been applied, so no query meets a missing table.
    migrated: Arc<AtomicBool>,
    /// How bids are grouped into transactions.
    batch: BatchSettings,
    /// The group-commit workers, started by the first bid (they need a runtime).
    batcher: Arc<OnceLock<batcher::Batcher>>,
    /// The auction-creation worker, started by the first creation.
    creator: Arc<OnceLock<creations::Creator>>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("migrated", &self.is_migrated())
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// Builds a pool that connects on first use, so start-up never waits for PostgreSQL.
    ///
    /// Connections opened before the server was last seen unable to take writes are
    /// closed instead of reused (`failover`), so a failover needs no restart.
    pub fn connect_lazy(options: PgConnectOptions, settings: &PoolSettings) -> Self {
        failover::start_clock();
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(0)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(false)
            // Every statement here is short and finds its rows through an index; the
            // plans are cached per connection. Planned on stale statistics (a young table,
            // a fresh standby), a statement may look costly enough for PostgreSQL to
            // compile it first (10 to 150 ms a statement: settlement fell seconds behind),
            // or its table small enough to read whole, a plan then kept as the table
            // grows: in rtb, a bid batch's lock of 100 auctions by id scanned all of them,
            // 8.2 ms a batch against 0.7 with the index. Settings of the session, so they
            // also pass through a pooler.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor as _;
                    conn.execute("SET jit = off; SET enable_seqscan = off")
                        .await
                        .map(|_| ())
                })
            })
            .before_acquire(|_, meta| Box::pin(async move { Ok(keep(&meta)) }))
            .after_release(|_, meta| Box::pin(async move { Ok(keep(&meta)) }))
            .connect_lazy_with(options);
        Self::from_pool(pool)
    }

    /// Wraps an existing pool (tests); migrations are still to be run.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            migrated: Arc::new(AtomicBool::new(false)),
            batch: BatchSettings::default(),
            batcher: Arc::default(),
            creator: Arc::default(),
        }
    }

    /// Groups bids as `settings` says (before the first bid).
    pub fn with_batching(mut self, settings: BatchSettings) -> Self {
        self.batch = settings;
        self
    }

    fn batcher(&self) -> &batcher::Batcher {
        self.batcher
            .get_or_init(|| batcher::Batcher::start(self.pool.clone(), self.batch))
    }

    fn creator(&self) -> &creations::Creator {
        self.creator
            .get_or_init(|| creations::Creator::start(self.pool.clone()))
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies pending migrations; safe with several instances at once
    /// (sqlx holds a PostgreSQL advisory lock while migrating).
    pub async fn migrate(&self) -> Result<(), StorageError> {
        MIGRATOR.run(&self.pool).await?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    /// True once migrations are applied by this process.
    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// Answers whether PostgreSQL is reachable and migrated right now.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query_scalar!("SELECT 1 AS \"one!\"")
            .fetch_one(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    /// Answers whether PostgreSQL can be reached now, migrated or not (one-shot commands
    /// check this before they start).
    pub async fn reach(&self) -> Result<(), StorageError> {
        sqlx::query_scalar!("SELECT 1 AS \"one!\"")
            .fetch_one(&mut *acquire(&self.pool).await?)
            .await?;
        Ok(())
    }

    /// How the connection pool stands now (no I/O).
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            open: self.pool.size(),
            idle: self.pool.num_idle(),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A connection, once migrations are applied: the one way queries reach the database,
    /// so none meets a missing table while PostgreSQL is still being migrated.
    async fn conn(&self) -> Result<PoolConnection<Postgres>, StorageError> {
        acquire(self.db()?).await
    }

    /// A transaction on a pooled connection of its own, which it may outlive the call with.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, Postgres>, StorageError> {
        waiting(self.db()?.begin()).await
    }

    /// The pool, once migrations are applied.
    fn db(&self) -> Result<&PgPool, StorageError> {
        if self.is_migrated() {
            Ok(&self.pool)
        } else {
            Err(StorageError::Unavailable)
        }
    }
}

/// Whether a pooled connection may be used again.
fn keep(meta: &sqlx::pool::PoolConnectionMetadata) -> bool {
    !failover::opened_before_loss(meta.age)
}

/// A connection from `pool` (see [`waiting`]).
async fn acquire(pool: &PgPool) -> Result<PoolConnection<Postgres>, StorageError> {
    waiting(pool.acquire()).await
}

/// What `acquire` yields (a connection from the pool), counted in `gavel_db_pool_waiting`
/// while it is awaited (the pool itself does not say how many wait).
async fn waiting<T>(
    acquire: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StorageError> {
    /// Counts one waiter for as long as it lives, however the wait ends.
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            metrics::gauge!("gavel_db_pool_waiting").decrement(1.0);
        }
    }
    metrics::gauge!("gavel_db_pool_waiting").increment(1.0);
    let _waiting = Waiting;
    Ok(acquire.await?)
}
