//! Group commit for bids: the bids that arrive while a transaction is in flight are decided
//! together, in one transaction and a fixed number of round trips.
//!
//! A batch locks its auctions in id order (so batches from two instances never deadlock),
//! decides each bid in arrival order with the domain rule, inserts every accepted bid and
//! updates each auction once in one statement, commits, and only then answers each caller
//! with its own decision. If the batch fails for a reason one bid could cause, every bid is
//! decided again alone, so one bad bid cannot fail its neighbours.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use gavel_domain::BidRequest;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::bids::Decision;
use crate::{Keyed, StorageError};
use keys::OwnedKey;

pub(crate) mod decide;
pub(crate) mod keys;
mod transaction;

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
    key: Option<OwnedKey>,
    reply: oneshot::Sender<Result<Keyed, StorageError>>,
    claim: Arc<Claim>,
}

/// Who settles a bid's fate first: the batch that takes it for a decision (once its locks
/// are held), or the caller's deadline. Whichever takes it first, the other cannot; so a
/// bid answered `deadline_exceeded` is never stored, and one taken for a decision is
/// answered with its outcome, however late.
#[derive(Debug, Default)]
struct Claim(AtomicU8);

const WAITING: u8 = 0;
const DECIDING: u8 = 1;
const EXPIRED: u8 = 2;

impl Claim {
    /// The batch takes the bid; false when its deadline took it first.
    fn take(&self) -> bool {
        match self
            .0
            .compare_exchange(WAITING, DECIDING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == DECIDING,
        }
    }

    /// The deadline takes the bid; false when a batch took it first.
    fn expire(&self) -> bool {
        self.0
            .compare_exchange(WAITING, EXPIRED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
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
    pub(crate) async fn submit(
        &self,
        req: BidRequest,
        deadline: Option<Instant>,
    ) -> Result<Decision, StorageError> {
        match self.submit_keyed(req, None, deadline).await? {
            Keyed::Fresh(decision) => Ok(decision),
            other => Err(StorageError::Corrupt(format!(
                "an unkeyed bid answered {other:?}"
            ))),
        }
    }

    /// Decides `req` in the next batch under its idempotency key, if any. Past `deadline`
    /// a bid no batch has taken yet is `DeadlineExceeded` at once, and never decided.
    pub(crate) async fn submit_keyed(
        &self,
        req: BidRequest,
        key: Option<OwnedKey>,
        deadline: Option<Instant>,
    ) -> Result<Keyed, StorageError> {
        let claim = Arc::new(Claim::default());
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(StorageError::DeadlineExceeded);
        }
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job {
                req,
                key,
                reply,
                claim: claim.clone(),
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => StorageError::Busy,
                mpsc::error::TrySendError::Closed(_) => StorageError::Unavailable,
            })?;
        let unavailable = |_| StorageError::Unavailable;
        let Some(deadline) = deadline else {
            return answer.await.map_err(unavailable)?;
        };
        tokio::pin!(answer);
        tokio::select! {
            got = &mut answer => got.map_err(unavailable)?,
            _ = tokio::time::sleep_until(deadline.into()) => {
                if claim.expire() {
                    return Err(StorageError::DeadlineExceeded);
                }
                // Taken for a decision before the deadline: its outcome, late.
                answer.await.map_err(unavailable)?
            }
        }
    }
}

/// One worker: takes whatever is queued (up to `max`), decides it, answers, repeats.
async fn work(rx: Arc<Mutex<mpsc::Receiver<Job>>>, pool: PgPool, max: usize) {
    let mut begun: Option<transaction::Begun> = None;
    loop {
        let mut jobs = Vec::with_capacity(max);
        {
            let mut rx = rx.lock().await;
            let first = match rx.try_recv() {
                Ok(job) => Some(job),
                Err(_) => {
                    // Never idle in a transaction: the bids it was begun for went to
                    // another worker.
                    if let Some(tx) = begun.take() {
                        let _ = tx.rollback().await;
                    }
                    rx.recv().await
                }
            };
            match first {
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
        // Bids already waiting for the next batch (another worker holding the queue counts
        // as none: it takes them).
        let more = || rx.try_lock().is_ok_and(|rx| !rx.is_empty());
        decide_jobs(&pool, &mut begun, jobs, more).await;
    }
}

async fn decide_jobs(
    pool: &PgPool,
    begun: &mut Option<transaction::Begun>,
    jobs: Vec<Job>,
    more: impl Fn() -> bool,
) {
    metrics::histogram!("gavel_bid_batch_size").record(jobs.len() as f64);
    let reqs: Vec<BidRequest> = jobs.iter().map(|j| j.req).collect();
    let keys: Vec<Option<OwnedKey>> = jobs.iter().map(|j| j.key.clone()).collect();
    // Asked only once the batch holds its locks: a bid is then taken for a decision, unless
    // its deadline or its sender's departure came first.
    let gone = |i: usize| jobs[i].reply.is_closed() || !jobs[i].claim.take();
    match transaction::decide_batch(pool, begun, &reqs, &keys, gone, more).await {
        Ok(answers) => {
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
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
            for job in jobs
                .into_iter()
                .filter(|j| !j.reply.is_closed() && j.claim.take())
            {
                let _ = job.reply.send(decide_alone(pool, job.req, job.key).await);
            }
        }
    }
}

/// One bid in a transaction of its own.
async fn decide_alone(
    pool: &PgPool,
    req: BidRequest,
    key: Option<OwnedKey>,
) -> Result<Keyed, StorageError> {
    transaction::decide_batch(pool, &mut None, &[req], &[key], |_| false, || false)
        .await?
        .pop()
        .unwrap_or_else(|| {
            Err(StorageError::Corrupt(
                "a lone bid came back undecided".into(),
            ))
        })
}
