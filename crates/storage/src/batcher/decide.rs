//! One batch decided inside its transaction (see `transaction`): lock the auctions in id
//! order, decide each bid in arrival order, insert the accepted ones and update each
//! auction once.

use std::collections::{HashMap, HashSet};

use gavel_domain::{
    decide_bid, AcceptedBid, Auction, AuctionId, AuctionState, Bid, BidContext, BidId,
    BidRejection, BidRequest, BidderId, PlacedBid,
};
use rust_decimal::Decimal;

use super::keys::{self, KeyState, OwnedKey, Raced};
use crate::bids::Decision;
use crate::rows::{bid_id, AuctionRow};
use crate::{Keyed, StorageError};

/// An auction as the batch sees it, after the bids decided so far.
struct Working {
    auction: Auction,
    state: AuctionState,
    bid_count: i64,
    /// Index (in the batch) of the bid that is now the highest, when one of the batch's is.
    new_highest: Option<usize>,
}

/// An accepted bid waiting for its id.
struct Pending {
    index: usize,
    accepted: AcceptedBid,
    ends_at: chrono::DateTime<chrono::Utc>,
    bid_count: i64,
}

/// Decides `reqs` inside the caller's transaction: every bid, batched or alone, keyed or
/// not, is decided and recorded here, by the same statements. Returns each bid's answer
/// and whether anything was written (then the caller commits), or `Raced` (then the
/// caller rolls back and decides the batch again). Stored keys are read only when
/// `read_keys`.
pub(super) async fn decide_in(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    keys: &[Option<OwnedKey>],
    gone: &impl Fn(usize) -> bool,
    read_keys: bool,
) -> Result<Result<Answers, Raced>, StorageError> {
    let mut ids: Vec<i64> = reqs.iter().map(|r| r.auction_id.get()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = sqlx::query_as!(
        AuctionRow,
        r#"SELECT id, title, kind, currency, reserve_price, min_increment, extend_secs,
                  starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                  highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                  clearing_price, notice, created_at, clock_timestamp() AS "db_now!"
           FROM auctions
           WHERE id = ANY($1) ORDER BY id FOR UPDATE"#,
        &ids
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut auctions: HashMap<AuctionId, Working> = HashMap::with_capacity(rows.len());
    for row in rows {
        let auction = Auction::try_from(row)?;
        auctions.insert(
            auction.id,
            Working {
                state: auction.state(),
                bid_count: auction.bid_count,
                new_highest: None,
                auction,
            },
        );
    }
    // Keys after the locks, on every path: see `keys`.
    let states = keys::look_up(tx, reqs, keys, gone, read_keys).await?;
    let mut wrote = states.iter().any(|s| matches!(s, KeyState::Fresh));
    let mut already_bid = sealed_bidders(tx, reqs, &auctions).await?;

    let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(reqs.len());
    let mut pending = Vec::new();
    for (index, req) in reqs.iter().enumerate() {
        // A new key's bid is decided even when its sender has left since: the key is
        // written with an outcome, and only a real one will do.
        let fresh = matches!(states[index], KeyState::Fresh);
        if !states[index].decided() || (gone(index) && !fresh) {
            // Nobody will read it, or it is answered otherwise: any refusal will do.
            decisions.push(Some(Err(BidRejection::UnknownAuction)));
            continue;
        }
        let Some(w) = auctions.get_mut(&req.auction_id) else {
            decisions.push(Some(Err(BidRejection::UnknownAuction)));
            continue;
        };
        let ctx = BidContext {
            auction: &w.state,
            now: w.auction.as_of,
            bidder_already_bid: already_bid.contains(&(req.auction_id, req.bidder_id)),
        };
        match decide_bid(&ctx, req.amount) {
            Err(rejection) => decisions.push(Some(Err(rejection))),
            Ok(accepted) => {
                w.bid_count += 1;
                w.state.accept(req.amount.money(), &accepted);
                if accepted.becomes_highest {
                    w.new_highest = Some(index);
                }
                already_bid.insert((req.auction_id, req.bidder_id));
                pending.push(Pending {
                    index,
                    accepted,
                    ends_at: w.state.ends_at,
                    bid_count: w.bid_count,
                });
                decisions.push(None);
            }
        }
    }
    // The keys' outcomes go into the same statement as the bids, before the bids have
    // ids: an accepted bid's outcome is written with a stand-in id that the statement
    // replaces with the bid's own.
    let new_keys = if states.iter().any(|s| matches!(s, KeyState::Fresh)) {
        let stand_in = bid_id(STAND_IN_ID)?;
        let positions = pending_positions(&pending);
        let provisional: Vec<Decision> = decisions
            .iter()
            .enumerate()
            .map(|(i, d)| match (d, positions.get(&i)) {
                (Some(d), _) => d.clone(),
                (None, Some(&at)) => {
                    Ok(placed(reqs, &auctions, &pending[at as usize - 1], stand_in))
                }
                (None, None) => Err(BidRejection::UnknownAuction),
            })
            .collect();
        keys::to_store(reqs, keys, &states, &provisional, &positions)?
    } else {
        keys::NewKeys::default()
    };
    wrote |= !pending.is_empty();
    if !pending.is_empty() || !new_keys.is_empty() {
        let new_ids = match record(tx, reqs, &pending, &auctions, &new_keys).await? {
            Ok(ids) => ids,
            Err(raced) => return Ok(Err(raced)),
        };
        for (p, id) in pending.iter().zip(new_ids) {
            decisions[p.index] = Some(Ok(placed(reqs, &auctions, p, bid_id(id)?)));
        }
    }
    let decisions: Vec<Decision> = decisions
        .into_iter()
        .map(|d| d.unwrap_or(Err(BidRejection::UnknownAuction)))
        .collect();
    Ok(Ok((keys::answers(states, &decisions), wrote)))
}

/// The id an accepted bid's stored outcome carries until the statement that inserts the
/// bid puts the bid's own there (see `record`).
const STAND_IN_ID: i64 = i64::MAX;

/// The stand-in id as it reads in an outcome's JSON text: only a field named `id` holds it
/// (`"auction_id":` does not end in `"id":`), and only the bid's is named so.
const STAND_IN_FIELD: &str = "\"id\":9223372036854775807";

/// Each bid's place among the accepted ones (1-based, as the statement numbers the new
/// bids), by index in the batch.
fn pending_positions(pending: &[Pending]) -> HashMap<usize, i32> {
    pending
        .iter()
        .zip(1..)
        .map(|(p, position)| (p.index, position))
        .collect()
}

/// An accepted bid with its id.
fn placed(
    reqs: &[BidRequest],
    auctions: &HashMap<AuctionId, Working>,
    p: &Pending,
    id: BidId,
) -> PlacedBid {
    let req = &reqs[p.index];
    let w = &auctions[&req.auction_id];
    PlacedBid {
        bid: Bid {
            id,
            auction_id: req.auction_id,
            bidder_id: req.bidder_id,
            amount: req.amount.money(),
            created_at: w.auction.as_of,
        },
        kind: w.auction.kind,
        min_increment: w.auction.min_increment,
        accepted: p.accepted.clone(),
        ends_at: p.ends_at,
        bid_count: p.bid_count,
    }
}

/// Each bid's answer, in order, and whether the transaction wrote anything.
pub(super) type Answers = (Vec<Result<Keyed, StorageError>>, bool);

/// The (auction, bidder) pairs of the batch's sealed auctions that already hold a bid.
async fn sealed_bidders(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    auctions: &HashMap<AuctionId, Working>,
) -> Result<HashSet<(AuctionId, BidderId)>, StorageError> {
    let (a, b): (Vec<i64>, Vec<i64>) = reqs
        .iter()
        .filter(|r| {
            auctions
                .get(&r.auction_id)
                .is_some_and(|w| w.auction.kind.is_sealed())
        })
        .map(|r| (r.auction_id.get(), r.bidder_id.get()))
        .unzip();
    if a.is_empty() {
        return Ok(HashSet::new());
    }
    // A fresh statement after the locks: its snapshot sees every bid committed before.
    let rows = sqlx::query!(
        r#"SELECT DISTINCT b.auction_id, b.bidder_id FROM bids b
           JOIN UNNEST($1::BIGINT[], $2::BIGINT[]) AS q(auction_id, bidder_id)
             ON b.auction_id = q.auction_id AND b.bidder_id = q.bidder_id"#,
        &a,
        &b
    )
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                crate::rows::auction_id(r.auction_id)?,
                crate::rows::bidder_id(r.bidder_id)?,
            ))
        })
        .collect()
}

/// Inserts the accepted bids (in arrival order, so ids rise with it), updates each
/// auction once and writes the new keys with their outcomes, all in one statement; returns
/// the new bid ids in the order of `pending`, or `Raced` when a key was stored already
/// (the transaction is then aborted).
///
/// The keys are plainly inserted, not `ON CONFLICT DO NOTHING`: a stored key is rare (a
/// client's retry), and the speculative insertion cost every key a second index probe and
/// WAL record (four alternated pairs of keyed runs: 11,003, 11,306, 11,174 and 10,934 bids
/// a second, against 10,412, 10,803, 10,491 and 10,451).
async fn record(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    pending: &[Pending],
    auctions: &HashMap<AuctionId, Working>,
    new_keys: &keys::NewKeys,
) -> Result<Result<Vec<i64>, Raced>, StorageError> {
    let mut bid_auction = Vec::with_capacity(pending.len());
    let mut bid_bidder = Vec::with_capacity(pending.len());
    let mut bid_amount = Vec::with_capacity(pending.len());
    let mut bid_at = Vec::with_capacity(pending.len());
    for p in pending {
        let req = &reqs[p.index];
        bid_auction.push(req.auction_id.get());
        bid_bidder.push(req.bidder_id.get());
        bid_amount.push(req.amount.money().as_decimal());
        bid_at.push(auctions[&req.auction_id].auction.as_of);
    }
    let touched: Vec<&Working> = auctions
        .values()
        .filter(|w| w.bid_count > w.auction.bid_count)
        .collect();
    let upd_id: Vec<i64> = touched.iter().map(|w| w.auction.id.get()).collect();
    let upd_added: Vec<i64> = touched
        .iter()
        .map(|w| w.bid_count - w.auction.bid_count)
        .collect();
    let upd_ends: Vec<_> = touched.iter().map(|w| w.state.ends_at).collect();
    // No new highest in this batch: -1, which no bid amount equals.
    let upd_high: Vec<Decimal> = touched
        .iter()
        .map(|w| match w.new_highest {
            Some(i) => reqs[i].amount.money().as_decimal(),
            None => Decimal::NEGATIVE_ONE,
        })
        .collect();
    let row = sqlx::query!(
        r#"WITH ins AS (
               INSERT INTO bids (auction_id, bidder_id, amount, created_at)
               SELECT a, b, c, d
               FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::NUMERIC[], $4::TIMESTAMPTZ[])
                    WITH ORDINALITY AS u(a, b, c, d, n)
               ORDER BY n
               RETURNING id, auction_id, bidder_id, amount
           ), upd AS (
               UPDATE auctions au SET
                   bid_count = au.bid_count + s.added,
                   highest_bid_id = COALESCE(h.id, au.highest_bid_id),
                   highest_bidder_id = COALESCE(h.bidder_id, au.highest_bidder_id),
                   highest_amount = COALESCE(h.amount, au.highest_amount),
                   ends_at = s.ends
               FROM UNNEST($5::BIGINT[], $6::BIGINT[], $7::TIMESTAMPTZ[], $8::NUMERIC[])
                    AS s(id, added, ends, high)
               LEFT JOIN LATERAL (
                   SELECT i.id, i.bidder_id, i.amount FROM ins i
                   WHERE i.auction_id = s.id AND i.amount = s.high
                   ORDER BY i.id LIMIT 1
               ) h ON true
               WHERE au.id = s.id
               RETURNING au.id
           ), numbered AS (
               SELECT id, row_number() OVER (ORDER BY id) AS n FROM ins
           ), keyed AS (
               INSERT INTO idempotency_keys (bidder_id, key, request_hash, outcome)
               SELECT k.b, k.k, k.h,
                      (CASE WHEN k.p IS NULL THEN k.o
                            ELSE replace(k.o, $14::TEXT, '"id":' || nb.id) END)::JSONB
               FROM UNNEST($9::BIGINT[], $10::TEXT[], $11::BYTEA[], $12::TEXT[], $13::INT[])
                    AS k(b, k, h, o, p)
               LEFT JOIN numbered nb ON nb.n = k.p
           )
           SELECT COALESCE((SELECT array_agg(id ORDER BY id) FROM ins), '{}') AS "ids!""#,
        &bid_auction,
        &bid_bidder,
        &bid_amount,
        &bid_at,
        &upd_id,
        &upd_added,
        &upd_ends,
        &upd_high,
        &new_keys.bidders,
        &new_keys.names,
        &new_keys.hashes,
        &new_keys.outcomes,
        &new_keys.positions as &[Option<i32>],
        STAND_IN_FIELD,
    )
    .fetch_one(&mut *tx)
    .await;
    let ids = match row {
        Ok(row) => row.ids,
        Err(e) if keys::stored_already(&e) => return Ok(Err(Raced)),
        Err(e) => return Err(e.into()),
    };
    if ids.len() != pending.len() {
        return Err(StorageError::Corrupt(format!(
            "{} bids inserted for {} accepted",
            ids.len(),
            pending.len()
        )));
    }
    Ok(Ok(ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_field_is_the_bid_id_and_nothing_else_in_an_outcome() {
        assert_eq!(STAND_IN_FIELD, format!("\"id\":{STAND_IN_ID}"));
        // The other ids at their largest too: only the bid's is replaced.
        let outcome = gavel_domain::BidOutcome::Accepted {
            bid: Bid {
                id: bid_id(STAND_IN_ID).unwrap(),
                auction_id: AuctionId::new(i64::MAX).unwrap(),
                bidder_id: BidderId::new(i64::MAX).unwrap(),
                amount: "99999999999999.9999".parse().unwrap(),
                created_at: chrono::Utc::now(),
            },
            kind: gavel_domain::AuctionKind::English,
        };
        let text = serde_json::to_string(&outcome).unwrap();
        assert_eq!(text.matches(STAND_IN_FIELD).count(), 1, "{text}");
        let replaced: gavel_domain::BidOutcome =
            serde_json::from_str(&text.replace(STAND_IN_FIELD, "\"id\":42")).unwrap();
        let gavel_domain::BidOutcome::Accepted { bid, .. } = replaced else {
            panic!("not accepted: {replaced:?}");
        };
        assert_eq!(bid.id.get(), 42);
        assert_eq!(bid.auction_id.get(), i64::MAX);
    }
}
