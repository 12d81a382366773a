//! The one error type of the storage crate.

use gavel_domain::DomainError;

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// PostgreSQL is unreachable, restarting, not yet migrated, or the pool is exhausted.
    #[error("database unavailable")]
    Unavailable,
    /// Too many bids are already waiting for a transaction on this instance.
    #[error("too many bids waiting")]
    Busy,
    /// The bid's deadline passed before a batch took it: it was not decided, and never
    /// will be.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A domain rule refused the operation.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A stored row breaks a rule the schema should have kept (a bug or a hand edit).
    #[error("stored row is not valid: {0}")]
    Corrupt(String),
    /// Anything else: a bug or an unexpected database answer.
    #[error("database error")]
    Internal(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match trouble(&e) {
            Trouble::Lost => {
                crate::failover::mark_lost();
                StorageError::Unavailable
            }
            Trouble::Busy => StorageError::Unavailable,
            Trouble::Bug => StorageError::Internal(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => StorageError::Internal(sqlx::Error::Migrate(Box::new(other))),
        }
    }
}

/// What an error says about the database.
#[derive(Debug, PartialEq, Eq)]
enum Trouble {
    /// The server this connection reached cannot take writes now: gone, shutting down,
    /// starting up, in recovery, or read-only (a demoted or not yet promoted node). The
    /// connections to it are dropped (see `failover`), so the next reaches the primary.
    Lost,
    /// PostgreSQL is there but has no room for this request now (pool exhausted, too
    /// many connections): nothing to drop.
    Busy,
    /// A bug or an unexpected answer.
    Bug,
}

fn trouble(e: &sqlx::Error) -> Trouble {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Trouble::Busy,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => Trouble::Lost,
        sqlx::Error::WorkerCrashed => Trouble::Lost,
        sqlx::Error::Database(db) => sqlstate_trouble(db.code().as_deref().unwrap_or("")),
        _ => Trouble::Bug,
    }
}

/// The SQLSTATEs that mean "not now" rather than "wrong".
fn sqlstate_trouble(code: &str) -> Trouble {
    match code {
        // 08: connection exceptions. 57P01 admin shutdown, 57P02 crash shutdown, 57P03
        // cannot connect now (starting up, in recovery). 25006: read-only transaction (a
        // standby, a primary come back read-only, default_transaction_read_only).
        // 40001 is not here: serialization failures are for the caller's retry loop.
        c if c.starts_with("08") || c.starts_with("57P") || c == "25006" => Trouble::Lost,
        // 53300: too many connections.
        "53300" => Trouble::Busy,
        _ => Trouble::Bug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_that_mean_no_writes_here_now_drop_the_connection() {
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "25006"] {
            assert_eq!(sqlstate_trouble(code), Trouble::Lost, "{code}");
        }
        assert_eq!(sqlstate_trouble("53300"), Trouble::Busy);
        for code in ["23505", "40001", "42P01", ""] {
            assert_eq!(sqlstate_trouble(code), Trouble::Bug, "{code}");
        }
    }
}
