//! Group commit for bids: the bids that arrive while a transaction is in flight are decided
//! together, in one transaction and a fixed number of round trips.
//!
//! A batch locks its auctions in id order (so batches from two instances never deadlock),
//! decides each bid in arrival order with the domain rule, inserts every accepted bid and
//! updates each auction once in one statement, commits, and only then answers each caller
//! with its own decision. If the batch fails for a reason one bid could cause, every bid is
//! decided again alone, so one bad bid cannot fail its neighbours.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use gavel_domain::{
    decide_bid, AcceptedBid, Auction, AuctionId, AuctionState, Bid, BidContext, BidRejection,
    BidRequest, BidderId, PlacedBid,
};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::bids::{decide_and_record, Decision};
use crate::rows::{bid_id, AuctionRow};
use crate::StorageError;

/// How bids are grouped.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    /// Most bids decided in one transaction.
    pub max_batch: usize,
    /// Most bids waiting for a batch; past it a bid is refused at once (`Busy`).
    pub queue: usize,
    /// Transactions in flight at once (each on its own connection).
    pub workers: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_batch: 256,
            queue: 4096,
            // One transaction in flight decided the most bids a second on two cores
            // (bids queue while it runs, and the next batch is larger).
            workers: 1,
        }
    }
}

/// One bid waiting for its batch.
struct Job {
    req: BidRequest,
    reply: oneshot::Sender<Result<Decision, StorageError>>,
}

/// The queue into the batch workers; cheap to clone.
#[derive(Clone)]
pub(crate) struct Batcher {
    queue: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts `settings.workers` workers deciding batches on `pool`.
    pub(crate) fn start(pool: PgPool, settings: BatchSettings) -> Self {
        let (queue, rx) = mpsc::channel(settings.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..settings.workers.max(1) {
            tokio::spawn(work(rx.clone(), pool.clone(), settings.max_batch.max(1)));
        }
        Self { queue }
    }

    /// Decides `req` in the next batch; `Busy` when the queue is full.
    pub(crate) async fn submit(&self, req: BidRequest) -> Result<Decision, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job { req, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => StorageError::Busy,
                mpsc::error::TrySendError::Closed(_) => StorageError::Unavailable,
            })?;
        answer.await.map_err(|_| StorageError::Unavailable)?
    }
}

/// One worker: takes whatever is queued (up to `max`), decides it, answers, repeats.
async fn work(rx: Arc<Mutex<mpsc::Receiver<Job>>>, pool: PgPool, max: usize) {
    loop {
        let mut jobs = Vec::with_capacity(max);
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(job) => jobs.push(job),
                None => return,
            }
            while jobs.len() < max {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        decide_jobs(&pool, jobs).await;
    }
}

async fn decide_jobs(pool: &PgPool, jobs: Vec<Job>) {
    metrics::histogram!("gavel_bid_batch_size").record(jobs.len() as f64);
    let reqs: Vec<BidRequest> = jobs.iter().map(|j| j.req).collect();
    match decide_batch(pool, &reqs).await {
        Ok(decisions) => {
            for (job, decision) in jobs.into_iter().zip(decisions) {
                let _ = job.reply.send(Ok(decision));
            }
        }
        Err(StorageError::Unavailable) => {
            for job in jobs {
                let _ = job.reply.send(Err(StorageError::Unavailable));
            }
        }
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, bids = jobs.len(), "bid batch failed; deciding each alone");
            for job in jobs {
                let _ = job.reply.send(decide_alone(pool, &job.req).await);
            }
        }
    }
}

/// One bid in a transaction of its own.
async fn decide_alone(pool: &PgPool, req: &BidRequest) -> Result<Decision, StorageError> {
    let mut tx = pool.begin().await?;
    let decision = decide_and_record(&mut tx, req).await?;
    if decision.is_ok() {
        tx.commit().await?;
    }
    Ok(decision)
}

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

/// Decides `reqs` in one transaction; the decisions come back in the same order.
async fn decide_batch(pool: &PgPool, reqs: &[BidRequest]) -> Result<Vec<Decision>, StorageError> {
    let mut tx = pool.begin().await?;
    let mut ids: Vec<i64> = reqs.iter().map(|r| r.auction_id.get()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = sqlx::query_as!(
        AuctionRow,
        r#"SELECT *, clock_timestamp() AS "db_now!" FROM auctions
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
    let mut already_bid = sealed_bidders(&mut tx, reqs, &auctions).await?;

    let mut decisions: Vec<Option<Decision>> = Vec::with_capacity(reqs.len());
    let mut pending = Vec::new();
    for (index, req) in reqs.iter().enumerate() {
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
                if accepted.becomes_highest {
                    w.state.highest = Some(req.amount.money());
                    w.new_highest = Some(index);
                }
                if let Some(ends) = accepted.new_ends_at {
                    w.state.ends_at = ends;
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
    if !pending.is_empty() {
        let new_ids = record(&mut tx, reqs, &pending, &auctions).await?;
        for (p, id) in pending.into_iter().zip(new_ids) {
            let req = &reqs[p.index];
            let w = &auctions[&req.auction_id];
            decisions[p.index] = Some(Ok(PlacedBid {
                bid: Bid {
                    id: bid_id(id)?,
                    auction_id: req.auction_id,
                    bidder_id: req.bidder_id,
                    amount: req.amount.money(),
                    created_at: w.auction.as_of,
                },
                kind: w.auction.kind,
                accepted: p.accepted,
                ends_at: p.ends_at,
                bid_count: p.bid_count,
            }));
        }
        tx.commit().await?;
    }
    Ok(decisions
        .into_iter()
        .map(|d| d.unwrap_or(Err(BidRejection::UnknownAuction)))
        .collect())
}

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

/// Inserts the accepted bids (in arrival order, so ids rise with it) and updates each
/// auction once; returns the new bid ids in the order of `pending`.
async fn record(
    tx: &mut sqlx::PgConnection,
    reqs: &[BidRequest],
    pending: &[Pending],
    auctions: &HashMap<AuctionId, Working>,
) -> Result<Vec<i64>, StorageError> {
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
    let ids = sqlx::query_scalar!(
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
           )
           SELECT id AS "id!" FROM ins ORDER BY id"#,
        &bid_auction,
        &bid_bidder,
        &bid_amount,
        &bid_at,
        &upd_id,
        &upd_added,
        &upd_ends,
        &upd_high,
    )
    .fetch_all(&mut *tx)
    .await?;
    if ids.len() != pending.len() {
        return Err(StorageError::Corrupt(format!(
            "{} bids inserted for {} accepted",
            ids.len(),
            pending.len()
        )));
    }
    Ok(ids)
}
