//! Idempotency keys: a keyed bid's outcome, stored in the bid's own transaction, so a
//! repeat is answered with the first outcome (rendered by the caller as it was the first
//! time).

use gavel_domain::{BidOutcome, BidRequest};
use sqlx::types::Json;
use sqlx::Connection as _;

use crate::batcher::decide::decide_in;
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
    /// [`Storage::place_bid`] under an idempotency key.
    ///
    /// The key row is inserted first in the same transaction: a concurrent repeat waits on
    /// its unique index until this transaction ends, then finds the stored outcome. A
    /// failure (database gone) stores nothing, so a retry is decided afresh.
    pub async fn place_bid_once(
        &self,
        req: &BidRequest,
        key: IdempotencyKey<'_>,
    ) -> Result<Keyed, StorageError> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await?;
        // A placeholder outcome, replaced below before commit; never visible to others.
        let claimed = sqlx::query_scalar!(
            r#"INSERT INTO idempotency_keys (bidder_id, key, request_hash, outcome)
               VALUES ($1, $2, $3, 'null')
               ON CONFLICT (bidder_id, key) DO NOTHING
               RETURNING 1 AS "one!""#,
            req.bidder_id.get(),
            key.key,
            key.request_hash,
        )
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !claimed {
            let stored = sqlx::query!(
                r#"SELECT request_hash, outcome AS "outcome!: Json<BidOutcome>"
                   FROM idempotency_keys WHERE bidder_id = $1 AND key = $2"#,
                req.bidder_id.get(),
                key.key,
            )
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return match stored {
                // Pruned between the two statements: vanishingly rare; let the client retry.
                None => Err(StorageError::Unavailable),
                Some(s) if s.request_hash != key.request_hash => Ok(Keyed::KeyReused),
                Some(s) => Ok(Keyed::Replay(s.outcome.0)),
            };
        }
        let decision = decide_in(&mut tx, std::slice::from_ref(req), |_| false)
            .await?
            .pop()
            .ok_or_else(|| StorageError::Corrupt("a keyed bid came back undecided".into()))?;
        sqlx::query!(
            "UPDATE idempotency_keys SET outcome = $3 WHERE bidder_id = $1 AND key = $2",
            req.bidder_id.get(),
            key.key,
            Json(BidOutcome::of(&decision)) as _,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Keyed::Fresh(decision))
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
