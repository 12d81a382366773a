//! Idempotency keys: a keyed bid's outcome, stored in the transaction that decides it, so a
//! repeat is answered with the first outcome (rendered by the caller as it was the first
//! time).

use gavel_domain::{BidOutcome, BidRequest};

use crate::batcher::keys::OwnedKey;
use crate::bids::Decision;
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

/// What a keyed bid turned into.
#[derive(Debug)]
pub enum Keyed {
    /// First time this key was seen: the fresh decision (its outcome is now stored).
    Fresh(Decision),
    /// Seen before with the same request: the stored first outcome.
    Replay(BidOutcome),
    /// Seen before with a different request.
    KeyReused,
}

impl Storage {
    /// [`Storage::place_bid`] under an idempotency key, batched like any bid.
    ///
    /// The key is looked up in the batch's transaction, after its auctions are locked,
    /// and written once, with the outcome, before it commits: a concurrent repeat of the
    /// same bid waits on the auction's lock, then finds the stored outcome (the rest of
    /// the races: `batcher::keys`). A failure (database gone) stores nothing, so a retry
    /// is decided afresh. The same key twice in one batch is decided once.
    pub async fn place_bid_once(
        &self,
        req: &BidRequest,
        key: IdempotencyKey<'_>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Keyed, StorageError> {
        self.db()?;
        let key = OwnedKey {
            key: key.key.to_string(),
            request_hash: key.request_hash.to_vec(),
        };
        self.batcher().submit_keyed(*req, Some(key), deadline).await
    }

    /// Deletes keys older than `KEEP_HOURS`; returns how many went.
    pub async fn prune_idempotency_keys(&self) -> Result<u64, StorageError> {
        let done = sqlx::query!(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
            KEEP_HOURS
        )
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(done.rows_affected())
    }
}
