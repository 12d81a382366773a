//! Idempotency keys inside a batch: written once, with their outcomes, before the batch
//! commits; looked up in its transaction, once its auctions are locked, only when the batch
//! is decided again.
//!
//! A key is not claimed ahead of its decision, nor read on a batch's first attempt: nearly
//! every key is new. A key stored before (a repeat of a committed bid, or the same key
//! committed meanwhile by a concurrent transaction) makes the keys' insert fail on their
//! primary key: the batch is rolled back and decided again, this time reading the keys,
//! and then finds the stored outcome. A repeat racing on another instance waits on the
//! auction's row lock first, so it meets the committed key.

use std::collections::HashMap;

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
    /// Its key is new: decided, and its outcome stored with the key.
    Fresh,
    /// Seen before (committed): answered from the stored row, not decided again.
    Stored(Keyed),
    /// The same key twice in this batch, the same request: answered as the first, `.0`.
    Repeats(usize),
    /// The same key twice in this batch, another request.
    ReusedHere,
    /// Its sender stopped waiting before the batch took it: not decided.
    Gone,
}

impl KeyState {
    /// Whether the bid is decided in this batch.
    pub(super) fn decided(&self) -> bool {
        matches!(self, KeyState::Unkeyed | KeyState::Fresh)
    }
}

/// A key the batch wrote was stored already (before, unread on a first attempt, or
/// meanwhile by a concurrent transaction): the batch is decided again (see the module's
/// note).
#[derive(Debug)]
pub(super) struct Raced;

/// Sorts the batch's keyed bids: the first of each key is looked up when `read_stored`
/// (committed before, it is answered from its stored row); later ones repeat it or reuse
/// it. Without `read_stored` every first occurrence counts as new, and a stored one makes
/// the keys' insert (in `decide::record`) fail.
pub(super) async fn look_up(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    gone: &impl Fn(usize) -> bool,
    read_stored: bool,
) -> Result<Vec<KeyState>, StorageError> {
    let mut states = Vec::with_capacity(reqs.len());
    let mut first: HashMap<(i64, &str), usize> = HashMap::new();
    let (mut bidders, mut names) = (Vec::new(), Vec::new());
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
                if read_stored {
                    bidders.push(id.0);
                    names.push(key.key.clone());
                }
                states.push(KeyState::Fresh);
            }
        }
    }
    if bidders.is_empty() {
        return Ok(states);
    }
    let stored: HashMap<(i64, String), (Vec<u8>, BidOutcome)> = sqlx::query!(
        r#"SELECT i.bidder_id, i.key, i.request_hash, i.outcome AS "outcome!: Json<BidOutcome>"
           FROM idempotency_keys i
           JOIN UNNEST($1::BIGINT[], $2::TEXT[]) AS u(b, k) ON i.bidder_id = u.b AND i.key = u.k"#,
        &bidders,
        &names,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| ((r.bidder_id, r.key), (r.request_hash, r.outcome.0)))
    .collect();
    if stored.is_empty() {
        return Ok(states);
    }
    for (i, state) in states.iter_mut().enumerate() {
        let (KeyState::Fresh, Some(key)) = (&state, &keys[i]) else {
            continue;
        };
        *state = match stored.get(&(reqs[i].bidder_id.get(), key.key.clone())) {
            Some((hash, outcome)) if *hash == key.request_hash => {
                KeyState::Stored(Keyed::Replay(outcome.clone()))
            }
            Some(_) => KeyState::Stored(Keyed::KeyReused),
            None => continue,
        };
    }
    Ok(states)
}

/// The batch's new keys, as the statement that records the batch writes them (see
/// `decide::record`).
#[derive(Debug, Default)]
pub(super) struct NewKeys {
    pub bidders: Vec<i64>,
    pub names: Vec<String>,
    pub hashes: Vec<Vec<u8>>,
    /// Each outcome as JSON text, serialized straight from the outcome (no JSON tree built
    /// first); an accepted bid's with a stand-in id, which the statement replaces as text
    /// before the one parse into `JSONB` (see `decide::record`).
    pub outcomes: Vec<String>,
    /// An accepted bid's place among the batch's new bids (1-based), whose id the
    /// statement puts in its outcome; `None` for a refusal.
    pub positions: Vec<Option<i32>>,
}

impl NewKeys {
    /// Whether the batch writes no key.
    pub(super) fn is_empty(&self) -> bool {
        self.bidders.is_empty()
    }
}

/// Whether the keys' write failed on a key stored already: the batch's transaction is
/// aborted, and the caller rolls it back and decides the batch again.
pub(super) fn stored_already(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation() && d.constraint() == Some("idempotency_keys_pkey"))
}

/// Every new key with its bid's outcome; `positions` gives an accepted bid's place among
/// the new bids, by its index in the batch.
pub(super) fn to_store(
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    states: &[KeyState],
    decisions: &[Decision],
    positions: &HashMap<usize, i32>,
) -> Result<NewKeys, StorageError> {
    let mut new = NewKeys::default();
    for (i, state) in states.iter().enumerate() {
        if let (KeyState::Fresh, Some(key)) = (state, &keys[i]) {
            new.bidders.push(reqs[i].bidder_id.get());
            new.names.push(key.key.clone());
            new.hashes.push(key.request_hash.clone());
            new.outcomes.push(
                serde_json::to_string(&BidOutcome::of(&decisions[i]))
                    .map_err(|e| StorageError::Corrupt(format!("an outcome as JSON: {e}")))?,
            );
            new.positions.push(positions.get(&i).copied());
        }
    }
    Ok(new)
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
            KeyState::Unkeyed | KeyState::Fresh | KeyState::Gone => {
                Ok(Keyed::Fresh(decisions[i].clone()))
            }
            KeyState::Stored(keyed) => Ok(keyed),
            KeyState::ReusedHere => Ok(Keyed::KeyReused),
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
