//! Win notices: claiming due ones and recording delivery attempts.

use chrono::{DateTime, Utc};
use gavel_domain::WinNotice;

use crate::rows::{auction_id, bid_id, bidder_id, money};
use crate::{Storage, StorageError};

/// A notice claimed for one delivery attempt (its `Debug` leaves the secret out).
#[derive(Clone)]
pub struct DueNotice {
    /// Row id.
    pub id: i64,
    /// What the winner is told.
    pub notice: WinNotice,
    /// Where to POST.
    pub url: String,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The winner's signing secret.
    pub webhook_secret: String,
}

impl std::fmt::Debug for DueNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueNotice")
            .field("id", &self.id)
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
    /// Claims up to `limit` due notices for `lease_secs`: another instance will not take
    /// them until the lease runs out (so a crash mid-delivery only delays a retry).
    pub async fn claim_due_notices(
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
                    notice: WinNotice {
                        notice_id: r.notice_id,
                        auction_id: auction_id(r.auction_id)?,
                        bid_id: bid_id(bid)?,
                        bidder_id: bidder_id(r.bidder_id)?,
                        clearing_price: money("clearing price", price)?,
                        currency: r.currency,
                        closed_at,
                    },
                    url: r.url,
                    attempts: r.attempts,
                    webhook_secret: r.webhook_secret,
                })
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

    /// Records attempts on notices (id, outcome) and mirrors their final states on their
    /// auctions, in one statement.
    pub async fn record_attempts(&self, attempts: &[(i64, Attempt)]) -> Result<(), StorageError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(attempts.len());
        let mut states = Vec::with_capacity(attempts.len());
        let mut errors: Vec<Option<String>> = Vec::with_capacity(attempts.len());
        let mut retries: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(attempts.len());
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
            ids.push(*id);
            states.push(state.to_string());
            errors.push(error);
            retries.push(retry_at);
        }
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
                   RETURNING n.auction_id, m.state)
               UPDATE auctions a SET notice = noted.state
               FROM noted WHERE a.id = noted.auction_id AND noted.state <> 'pending'"#,
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
