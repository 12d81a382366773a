//! Group commit for new auctions: the auctions created while an insert is in flight are
//! written together, in one statement and one commit. An exchange opens hundreds a second;
//! alone, each paid a transaction and a WAL flush of its own.

use gavel_domain::{Auction, NewAuction};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::rows::AuctionRow;
use crate::StorageError;

/// Most auctions written in one statement.
const MAX_BATCH: usize = 256;
/// Most creations waiting for their statement; past it callers wait for room.
const QUEUE: usize = 4096;

/// One creation waiting for its statement.
struct Job {
    auction: NewAuction,
    reply: oneshot::Sender<Result<Auction, StorageError>>,
}

/// The queue into the creation worker; cheap to clone.
#[derive(Clone)]
pub(crate) struct Creator {
    queue: mpsc::Sender<Job>,
}

impl Creator {
    /// Starts the worker writing on `pool`.
    pub(crate) fn start(pool: PgPool) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(work(rx, pool));
        Self { queue }
    }

    /// Stores `auction` with the next statement.
    pub(crate) async fn submit(&self, auction: NewAuction) -> Result<Auction, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { auction, reply })
            .await
            .map_err(|_| StorageError::Unavailable)?;
        answer.await.map_err(|_| StorageError::Unavailable)?
    }
}

/// Takes whatever is queued (up to `MAX_BATCH`), writes it, answers, repeats.
async fn work(mut rx: mpsc::Receiver<Job>, pool: PgPool) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let auctions: Vec<&NewAuction> = jobs.iter().map(|j| &j.auction).collect();
        match insert(&pool, &auctions).await {
            Ok(created) => {
                for (job, auction) in jobs.into_iter().zip(created) {
                    let _ = job.reply.send(Ok(auction));
                }
            }
            Err(StorageError::Unavailable) => {
                for job in jobs {
                    let _ = job.reply.send(Err(StorageError::Unavailable));
                }
            }
            // One auction the schema refuses must not fail the others: each alone.
            Err(e) => {
                if jobs.len() > 1 {
                    tracing::warn!(error = %e, auctions = jobs.len(), "auction batch failed; writing each alone");
                }
                for job in jobs {
                    let alone = insert(&pool, &[&job.auction]).await.and_then(|mut v| {
                        v.pop().ok_or_else(|| {
                            StorageError::Corrupt("an auction came back unwritten".into())
                        })
                    });
                    let _ = job.reply.send(alone);
                }
            }
        }
    }
}

/// Writes `auctions` in one statement; returns them as stored, in the same order.
async fn insert(pool: &PgPool, auctions: &[&NewAuction]) -> Result<Vec<Auction>, StorageError> {
    let n = auctions.len();
    let (mut title, mut kind, mut currency) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut reserve, mut increment, mut extend) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut starts, mut ends) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for a in auctions {
        title.push(a.title.as_str());
        kind.push(a.kind.as_str());
        currency.push(a.currency.as_str());
        reserve.push(a.reserve_price.as_decimal());
        increment.push(a.min_increment.as_decimal());
        extend.push(a.extend_secs);
        starts.push(a.starts_at);
        ends.push(a.ends_at);
    }
    // Identity values are drawn in `ORDER BY n` order, so ids rise with the queue's order.
    let mut rows = sqlx::query_as!(
        AuctionRow,
        r#"INSERT INTO auctions (title, kind, currency, reserve_price, min_increment,
                                 extend_secs, starts_at, ends_at)
           SELECT t, k, c, r, m, e, s, d
           FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::NUMERIC[], $5::NUMERIC[],
                       $6::INTEGER[], $7::TIMESTAMPTZ[], $8::TIMESTAMPTZ[])
                WITH ORDINALITY AS u(t, k, c, r, m, e, s, d, n)
           ORDER BY n
           RETURNING id, title, kind, currency, reserve_price, min_increment, extend_secs,
                     starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                     highest_amount, bid_count, closed_at, winner_bidder_id, winning_bid_id,
                     clearing_price, notice, created_at, now() AS "db_now!""#,
        &title as &[&str],
        &kind as &[&str],
        &currency as &[&str],
        &reserve,
        &increment,
        &extend,
        &starts,
        &ends,
    )
    .fetch_all(&mut *crate::acquire(pool).await?)
    .await?;
    if rows.len() != n {
        return Err(StorageError::Corrupt(format!(
            "{} auctions written for {n}",
            rows.len()
        )));
    }
    rows.sort_by_key(|r| r.id);
    rows.into_iter().map(Auction::try_from).collect()
}
