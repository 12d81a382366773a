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
        if is_unavailable(&e) {
            StorageError::Unavailable
        } else {
            StorageError::Internal(e)
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

/// True for errors that mean "PostgreSQL is not there right now", as opposed to a bug.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // 08: connection exceptions; 57P01-03: admin shutdown, crash shutdown, cannot
            // connect now (starting up); 53300: too many connections.
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }
        _ => false,
    }
}
