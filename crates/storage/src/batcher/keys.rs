//! Idempotency keys inside a batch: claimed in the batch's transaction once its auctions
//! are locked (the same order on every path, so a keyed bid never waits for a key while
//! holding a lock another waits for), their outcomes stored before it commits.

use std::collections::{HashMap, HashSet};

use gavel_domain::{BidOutcome, BidRequest};
use sqlx::types::Json;

use crate::bids::Decision;
use crate::{Keyed, StorageError};

/// An idempotency key as a queued bid carries it.
#[derive(Debug, Clone)]
pub(crate) struct OwnedKey {
    /// The header value.
    pub key: String,
    /// SHA-256 of the request as understood.
    pub request_hash: Vec<u8>,
}

/// What the batch does with one bid, as its key decides.
#[derive(Debug)]
pub(super) enum KeyState {
    /// No key: decided as any bid.
    Unkeyed,
    /// Its key is claimed by this transaction: decided, and its outcome stored.
    Claimed,
    /// Seen before (committed): answered from the stored row, not decided again.
    Stored(Keyed),
    /// The same key twice in this batch, the same request: answered as the first, `.0`.
    Repeats(usize),
    /// The same key twice in this batch, another request.
    ReusedHere,
    /// Its sender stopped waiting before the key was claimed: not decided.
    Gone,
    /// The stored row vanished between two statements (pruned): retry.
    Vanished,
}

impl KeyState {
    /// Whether the bid is decided in this batch.
    pub(super) fn decided(&self) -> bool {
        matches!(self, KeyState::Unkeyed | KeyState::Claimed)
    }
}

/// Claims the batch's keys (the first of each); reads what is stored for those claimed
/// before. A concurrent claim of the same key waits on the unique index until the other
/// transaction ends, then reads its outcome.
pub(super) async fn claim(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    gone: &impl Fn(usize) -> bool,
) -> Result<Vec<KeyState>, StorageError> {
    let mut states = Vec::with_capacity(reqs.len());
    let mut first: HashMap<(i64, &str), usize> = HashMap::new();
    let (mut bidders, mut names, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (req, key)) in reqs.iter().zip(keys).enumerate() {
        let Some(key) = key else {
            states.push(KeyState::Unkeyed);
            continue;
        };
        if gone(i) {
            states.push(KeyState::Gone);
            continue;
        }
        let id = (req.bidder_id.get(), key.key.as_str());
        match first.get(&id) {
            Some(&j)
                if keys[j]
                    .as_ref()
                    .is_some_and(|k| k.request_hash == key.request_hash) =>
            {
                states.push(KeyState::Repeats(j))
            }
            Some(_) => states.push(KeyState::ReusedHere),
            None => {
                first.insert(id, i);
                bidders.push(id.0);
                names.push(key.key.clone());
                hashes.push(key.request_hash.clone());
                states.push(KeyState::Claimed);
            }
        }
    }
    if bidders.is_empty() {
        return Ok(states);
    }
    // A placeholder outcome, replaced before commit; never visible to others.
    let claimed: HashSet<(i64, String)> = sqlx::query!(
        r#"INSERT INTO idempotency_keys (bidder_id, key, request_hash, outcome)
           SELECT b, k, h, 'null'::JSONB FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BYTEA[])
                AS u(b, k, h)
           ON CONFLICT (bidder_id, key) DO NOTHING
           RETURNING bidder_id, key"#,
        &bidders,
        &names,
        &hashes,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.bidder_id, r.key))
    .collect();
    if claimed.len() == bidders.len() {
        return Ok(states);
    }
    let (seen_b, seen_k): (Vec<i64>, Vec<String>) = bidders
        .iter()
        .zip(&names)
        .filter(|(b, k)| !claimed.contains(&(**b, (*k).clone())))
        .map(|(b, k)| (*b, k.clone()))
        .unzip();
    let stored: HashMap<(i64, String), (Vec<u8>, BidOutcome)> = sqlx::query!(
        r#"SELECT i.bidder_id, i.key, i.request_hash, i.outcome AS "outcome!: Json<BidOutcome>"
           FROM idempotency_keys i
           JOIN UNNEST($1::BIGINT[], $2::TEXT[]) AS u(b, k) ON i.bidder_id = u.b AND i.key = u.k"#,
        &seen_b,
        &seen_k,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| ((r.bidder_id, r.key), (r.request_hash, r.outcome.0)))
    .collect();
    for (i, state) in states.iter_mut().enumerate() {
        if !matches!(state, KeyState::Claimed) {
            continue;
        }
        let (Some(key), bidder) = (&keys[i], reqs[i].bidder_id.get()) else {
            continue;
        };
        let id = (bidder, key.key.clone());
        if claimed.contains(&id) {
            continue;
        }
        *state = match stored.get(&id) {
            Some((hash, outcome)) if *hash == key.request_hash => {
                KeyState::Stored(Keyed::Replay(outcome.clone()))
            }
            Some(_) => KeyState::Stored(Keyed::KeyReused),
            None => KeyState::Vanished,
        };
    }
    Ok(states)
}

/// Stores the outcome of every bid whose key this batch claimed.
pub(super) async fn store(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    states: &[KeyState],
    decisions: &[Decision],
) -> Result<(), StorageError> {
    let (mut bidders, mut names, mut outcomes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, state) in states.iter().enumerate() {
        if let (KeyState::Claimed, Some(key)) = (state, &keys[i]) {
            bidders.push(reqs[i].bidder_id.get());
            names.push(key.key.clone());
            outcomes.push(
                serde_json::to_value(BidOutcome::of(&decisions[i]))
                    .map_err(|e| StorageError::Corrupt(format!("an outcome as JSON: {e}")))?,
            );
        }
    }
    if bidders.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"UPDATE idempotency_keys i SET outcome = u.o
           FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::JSONB[]) AS u(b, k, o)
           WHERE i.bidder_id = u.b AND i.key = u.k"#,
        &bidders,
        &names,
        &outcomes,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Each bid's answer, once the batch's decisions are known: a repeat within the batch is
/// answered as its first occurrence was (replayed).
pub(super) fn answers(
    states: Vec<KeyState>,
    decisions: &[Decision],
) -> Vec<Result<Keyed, StorageError>> {
    let mut out: Vec<Result<Keyed, StorageError>> = Vec::with_capacity(states.len());
    for (i, state) in states.into_iter().enumerate() {
        let answer = match state {
            KeyState::Unkeyed | KeyState::Claimed | KeyState::Gone => {
                Ok(Keyed::Fresh(decisions[i].clone()))
            }
            KeyState::Stored(keyed) => Ok(keyed),
            KeyState::ReusedHere => Ok(Keyed::KeyReused),
            KeyState::Vanished => Err(StorageError::Unavailable),
            // The first occurrence comes earlier, so its answer is known.
            KeyState::Repeats(j) => match &out[j] {
                Ok(Keyed::Fresh(d)) => Ok(Keyed::Replay(BidOutcome::of(d))),
                Ok(Keyed::Replay(o)) => Ok(Keyed::Replay(o.clone())),
                Ok(Keyed::KeyReused) => Ok(Keyed::KeyReused),
                Err(_) => Err(StorageError::Unavailable),
            },
        };
        out.push(answer);
    }
    out
}
