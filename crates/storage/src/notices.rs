//! Notices, win and loss: claiming due notices and recording
//! delivery attempts. Each kind has its own outbox table; one sender serves both.

use chrono::{DateTime, Utc};
use gavel_domain::{Notice, WinNotice};

use crate::losers::QueuedLoss;
use crate::rows::{auction_id, bid_id, bidder_id, money};
use crate::{Storage, StorageError};

/// Which outbox a notice is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outbox {
    /// `win_notices` (its state is mirrored on the auction).
    Wins,
    /// `loss_notices`.
    Losses,
}

/// A notice row: its outbox and id there.
pub type NoticeRef = (Outbox, i64);

/// A notice claimed for one delivery attempt (its `Debug` leaves the secret out).
#[derive(Clone)]
pub struct DueNotice {
    /// Row id, in `outbox`.
    pub id: i64,
    /// Its table.
    pub outbox: Outbox,
    /// What the bidder is told.
    pub notice: Notice,
    /// Where to POST.
    pub url: String,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The bidder's signing secret.
    pub webhook_secret: String,
}

impl std::fmt::Debug for DueNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueNotice")
            .field("id", &self.id)
            .field("outbox", &self.outbox)
            .field("notice", &self.notice)
            .field("url", &self.url)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// How one attempt ended.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// 2xx.
    Delivered,
    /// Anything else; retry at `retry_at`, or give up when `None`.
    Failed {
        /// Short reason, for operators.
        error: String,
        /// When to try again; `None` when attempts are used up.
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Storage {
    /// Claims up to `limit` due notices of each outbox for `lease_secs`: another instance
    /// will not take them until the lease runs out (so a crash mid-delivery only delays a
    /// retry).
    pub async fn claim_due_notices(
        &self,
        limit: i64,
        lease_secs: i32,
    ) -> Result<Vec<DueNotice>, StorageError> {
        let mut due = self.claim_due_wins(limit, lease_secs).await?;
        due.extend(self.claim_due_losses(limit, lease_secs).await?);
        Ok(due)
    }

    async fn claim_due_wins(
        &self,
        limit: i64,
        lease_secs: i32,
    ) -> Result<Vec<DueNotice>, StorageError> {
        let rows = sqlx::query!(
            r#"WITH due AS (
                   SELECT id FROM win_notices
                   WHERE state = 'pending' AND next_attempt_at <= now()
                   ORDER BY next_attempt_at
                   LIMIT $1
                   FOR UPDATE SKIP LOCKED
               ), claimed AS (
                   UPDATE win_notices n
                   SET next_attempt_at = now() + make_interval(secs => $2)
                   FROM due WHERE n.id = due.id
                   RETURNING n.id, n.notice_id, n.auction_id, n.bidder_id, n.url, n.attempts
               )
               SELECT c.id AS "id!", c.notice_id::TEXT AS "notice_id!",
                      c.auction_id AS "auction_id!", c.bidder_id AS "bidder_id!",
                      c.url AS "url!", c.attempts AS "attempts!", b.webhook_secret,
                      a.winning_bid_id, a.clearing_price, a.currency, a.closed_at
               FROM claimed c
               JOIN bidders b ON b.id = c.bidder_id
               JOIN auctions a ON a.id = c.auction_id"#,
            limit,
            f64::from(lease_secs),
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.into_iter()
            .map(|r| {
                let (Some(bid), Some(price), Some(closed_at)) =
                    (r.winning_bid_id, r.clearing_price, r.closed_at)
                else {
                    return Err(StorageError::Corrupt(format!(
                        "win notice {} for an auction without a winner",
                        r.id
                    )));
                };
                Ok(DueNotice {
                    id: r.id,
                    outbox: Outbox::Wins,
                    notice: Notice::Won(WinNotice {
                        notice_id: r.notice_id,
                        auction_id: auction_id(r.auction_id)?,
                        bid_id: bid_id(bid)?,
                        bidder_id: bidder_id(r.bidder_id)?,
                        clearing_price: money("clearing price", price)?,
                        currency: r.currency,
                        closed_at,
                    }),
                    url: r.url,
                    attempts: r.attempts,
                    webhook_secret: r.webhook_secret,
                })
            })
            .collect()
    }

    async fn claim_due_losses(
        &self,
        limit: i64,
        lease_secs: i32,
    ) -> Result<Vec<DueNotice>, StorageError> {
        let rows = sqlx::query!(
            r#"WITH due AS (
                   SELECT id FROM loss_notices
                   WHERE state = 'pending' AND next_attempt_at <= now()
                   ORDER BY next_attempt_at
                   LIMIT $1
                   FOR UPDATE SKIP LOCKED
               ), claimed AS (
                   UPDATE loss_notices n
                   SET next_attempt_at = now() + make_interval(secs => $2)
                   FROM due WHERE n.id = due.id
                   RETURNING n.id, n.notice_id, n.auction_id, n.bidder_id, n.bid_id,
                             n.loss_reason, n.min_to_win, n.url, n.attempts
               )
               SELECT c.id AS "id!", c.notice_id::TEXT AS "notice_id!",
                      c.auction_id AS "auction_id!", c.bidder_id AS "bidder_id!",
                      c.bid_id AS "bid_id!", c.loss_reason AS "loss_reason!",
                      c.min_to_win, c.url AS "url!", c.attempts AS "attempts!",
                      b.webhook_secret, a.clearing_price, a.currency,
                      COALESCE(a.closed_at, a.cancelled_at) AS closed_at
               FROM claimed c
               JOIN bidders b ON b.id = c.bidder_id
               JOIN auctions a ON a.id = c.auction_id"#,
            limit,
            f64::from(lease_secs),
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.into_iter()
            .map(|r| {
                let corrupt =
                    |what: &str| StorageError::Corrupt(format!("loss notice {}: {what}", r.id));
                let closed_at = r
                    .closed_at
                    .ok_or_else(|| corrupt("the auction is not over"))?;
                let clearing_price = r
                    .clearing_price
                    .map(|p| money("clearing price", p))
                    .transpose()?;
                QueuedLoss {
                    id: r.id,
                    notice_id: r.notice_id,
                    auction_id: r.auction_id,
                    bidder_id: r.bidder_id,
                    bid_id: r.bid_id,
                    loss_reason: r.loss_reason,
                    min_to_win: r.min_to_win,
                    url: r.url,
                    attempts: r.attempts,
                    webhook_secret: r.webhook_secret,
                }
                .due(clearing_price, &r.currency, closed_at)
            })
            .collect()
    }

    /// Win notices still to be delivered (the queue operators watch).
    pub async fn pending_notices(&self) -> Result<i64, StorageError> {
        let n = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM win_notices WHERE state = 'pending'"#
        )
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(n)
    }

    /// Records attempts on notices (which, outcome): one statement per outbox; the final
    /// states of win notices are mirrored on their auctions.
    pub async fn record_attempts(
        &self,
        attempts: &[(NoticeRef, Attempt)],
    ) -> Result<(), StorageError> {
        let mut wins = Vec::new();
        let mut losses = Vec::new();
        for ((outbox, id), attempt) in attempts {
            match outbox {
                Outbox::Wins => wins.push((*id, attempt)),
                Outbox::Losses => losses.push((*id, attempt)),
            }
        }
        self.record_win_attempts(&wins).await?;
        self.record_loss_attempts(&losses).await
    }

    async fn record_win_attempts(&self, attempts: &[(i64, &Attempt)]) -> Result<(), StorageError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let (ids, states, errors, retries) = columns(attempts);
        // The auctions are locked in id order, as bid batches lock them: in any other
        // order the two could deadlock (a bid on a closed auction still takes its lock),
        // and PostgreSQL takes a second to find that out.
        sqlx::query!(
            r#"WITH made AS (
                   SELECT m.id, m.state, m.error, m.retry_at
                   FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])
                       AS m(id, state, error, retry_at)),
               noted AS (
                   UPDATE win_notices n SET
                       state = m.state,
                       attempts = n.attempts + 1,
                       last_error = m.error,
                       next_attempt_at = COALESCE(m.retry_at, n.next_attempt_at),
                       delivered_at = CASE WHEN m.state = 'delivered' THEN now() END
                   FROM made m
                   WHERE n.id = m.id AND n.state = 'pending'
                   RETURNING n.auction_id, m.state),
               locked AS (
                   SELECT a.id FROM auctions a
                   WHERE a.id IN (SELECT auction_id FROM noted WHERE state <> 'pending')
                   ORDER BY a.id
                   FOR UPDATE)
               UPDATE auctions a SET notice = noted.state
               FROM noted JOIN locked l ON l.id = noted.auction_id
               WHERE a.id = noted.auction_id AND noted.state <> 'pending'"#,
            &ids,
            &states as &[String],
            &errors as &[Option<String>],
            &retries as &[Option<DateTime<Utc>>],
        )
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }

    async fn record_loss_attempts(&self, attempts: &[(i64, &Attempt)]) -> Result<(), StorageError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let (ids, states, errors, retries) = columns(attempts);
        sqlx::query!(
            r#"UPDATE loss_notices n SET
                   state = m.state,
                   attempts = n.attempts + 1,
                   last_error = m.error,
                   next_attempt_at = COALESCE(m.retry_at, n.next_attempt_at),
                   delivered_at = CASE WHEN m.state = 'delivered' THEN now() END
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])
                   AS m(id, state, error, retry_at)
               WHERE n.id = m.id AND n.state = 'pending'"#,
            &ids,
            &states as &[String],
            &errors as &[Option<String>],
            &retries as &[Option<DateTime<Utc>>],
        )
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }
}

/// Attempts as the columns the recording statements take: id, state, error, retry time.
#[allow(clippy::type_complexity)]
fn columns(
    attempts: &[(i64, &Attempt)],
) -> (
    Vec<i64>,
    Vec<String>,
    Vec<Option<String>>,
    Vec<Option<DateTime<Utc>>>,
) {
    let mut cols = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, attempt) in attempts {
        let (state, error, retry_at) = match attempt {
            Attempt::Delivered => ("delivered", None, None),
            Attempt::Failed {
                error,
                retry_at: Some(at),
            } => ("pending", Some(error.clone()), Some(*at)),
            Attempt::Failed {
                error,
                retry_at: None,
            } => ("failed", Some(error.clone()), None),
        };
        cols.0.push(*id);
        cols.1.push(state.to_string());
        cols.2.push(error);
        cols.3.push(retry_at);
    }
    cols
}
