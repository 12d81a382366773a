//! Idempotency keys: the first answer to a keyed bid, stored in the bid's transaction.

use serde_json::Value;

use crate::{Storage, StorageError};

/// How long keys are kept at least.
pub const KEEP_HOURS: i32 = 24;

/// A bidder's idempotency key and the fingerprint of the request it came with.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    /// The header value.
    pub key: &'a str,
    /// SHA-256 of the request as understood.
    pub request_hash: &'a [u8],
}

/// A stored first answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

/// What a keyed request turned into.
#[derive(Debug)]
pub enum Idempotent<T> {
    /// First time this key was seen: the fresh outcome (its answer is now stored).
    Fresh(T),
    /// Seen before with the same request: the stored first answer.
    Replay(StoredResponse),
    /// Seen before with a different request.
    KeyReused,
}

impl Storage {
    /// Deletes keys older than `KEEP_HOURS`; returns how many went.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, StorageError> {
        self.ensure_ready()?;
        let done = sqlx::query!(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
            KEEP_HOURS
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
