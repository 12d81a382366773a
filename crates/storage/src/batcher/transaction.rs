//! One batch's transaction: begun for it, or by the batch before (chained), decided in it
//! (`decide`), committed, and decided again when an idempotency key raced.

use gavel_domain::BidRequest;
use sqlx::PgPool;

use super::decide::decide_in;
use super::keys::{OwnedKey, Raced};
use crate::{Keyed, StorageError};

/// A transaction already begun for the next batch, on the connection the last one used.
pub(crate) type Begun = sqlx::Transaction<'static, sqlx::Postgres>;

/// Decides `reqs` (each with its idempotency key, if any) in one transaction of its own,
/// committed when it wrote anything; the answers come back in the same order.
///
/// `gone(i)` tells whether bid `i`'s sender has stopped waiting (its request timed out or
/// its client left); such a bid is not decided once the locks are held, so a client that
/// was answered `503` finds nothing stored (short of the last round trips' window).
///
/// The batch runs in `begun` when there is one. When `more()` says bids are waiting for
/// the next batch, this one ends with `COMMIT; BEGIN` in one round trip and leaves the new
/// transaction in `begun`: each round trip costs a batch most of a millisecond on busy
/// cores, whatever the statement (keyed bids, ten alternated pairs: higher in nine; README,
/// "Bench"). A chained transaction's `now()` is when it began, at the previous batch's
/// commit: only the keys' `created_at` takes it, for pruning a day later.
pub(crate) async fn decide_batch(
    pool: &PgPool,
    begun: &mut Option<Begun>,
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    gone: impl Fn(usize) -> bool,
    more: impl Fn() -> bool,
) -> Result<Vec<Result<Keyed, StorageError>>, StorageError> {
    for attempt in 0..RACES {
        let mut tx = match begun.take() {
            Some(tx) => tx,
            None => {
                let conn = crate::acquire(pool).await?;
                sqlx::Transaction::begin(conn, None).await?
            }
        };
        // A first attempt does not read the keys: nearly every key is new, and a stored
        // one makes the keys' insert fail, as a racing one does.
        match decide_in(&mut tx, reqs, keys, &gone, attempt > 0).await? {
            Ok((answers, wrote)) => {
                // A batch that wrote nothing still holds its auctions' locks: chained, it
                // rolls back; alone, its rollback is left to the drop, which sends it with
                // the connection's next statement.
                let end = if wrote {
                    "COMMIT; BEGIN"
                } else {
                    "ROLLBACK; BEGIN"
                };
                if more() {
                    // No arguments: sent as a simple query, so both statements go at once.
                    sqlx::Executor::execute(&mut *tx, end).await?;
                    *begun = Some(tx);
                } else if wrote {
                    tx.commit().await?;
                }
                return Ok(answers);
            }
            Err(Raced) => {
                tx.rollback().await?;
                tracing::debug!(
                    bids = reqs.len(),
                    "an idempotency key raced; deciding again"
                );
            }
        }
    }
    Err(StorageError::Unavailable)
}

/// Times a batch is decided: again when a key it writes was stored before (the first
/// attempt did not look) or meanwhile by another transaction (each retry finds that key
/// stored, so another race needs yet another writer).
const RACES: usize = 3;
