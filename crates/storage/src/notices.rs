//! Win notices: claiming due ones and recording delivery attempts.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{Storage, StorageError};

/// A notice claimed for one delivery attempt.
#[derive(Debug, Clone)]
pub struct DueNotice {
    /// Row id.
    pub id: i64,
    /// The id receivers dedupe on.
    pub notice_id: String,
    /// The auction it is about.
    pub auction_id: i64,
    /// Where to POST.
    pub url: String,
    /// The body.
    pub payload: Value,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The winner's signing secret.
    pub webhook_secret: String,
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
        self.ensure_ready()?;
        let rows = sqlx::query_as!(
            DueNotice,
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
                   RETURNING n.id, n.notice_id, n.auction_id, n.bidder_id, n.url, n.payload,
                             n.attempts
               )
               SELECT c.id AS "id!", c.notice_id::TEXT AS "notice_id!", c.auction_id AS "auction_id!",
                      c.url AS "url!", c.payload AS "payload!: Value", c.attempts AS "attempts!",
                      b.webhook_secret
               FROM claimed c JOIN bidders b ON b.id = c.bidder_id"#,
            limit,
            f64::from(lease_secs),
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Records an attempt on notice `id` and mirrors its state on the auction.
    pub async fn record_attempt(&self, id: i64, attempt: &Attempt) -> Result<(), StorageError> {
        self.ensure_ready()?;
        let (state, error, retry_at) = match attempt {
            Attempt::Delivered => ("delivered", None, None),
            Attempt::Failed {
                error,
                retry_at: Some(at),
            } => ("pending", Some(error.as_str()), Some(*at)),
            Attempt::Failed {
                error,
                retry_at: None,
            } => ("failed", Some(error.as_str()), None),
        };
        let mut tx = self.pool.begin().await?;
        let auction_id = sqlx::query_scalar!(
            r#"UPDATE win_notices SET
                   state = $2,
                   attempts = attempts + 1,
                   last_error = $3,
                   next_attempt_at = COALESCE($4, next_attempt_at),
                   delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
               WHERE id = $1 AND state = 'pending'
               RETURNING auction_id"#,
            id,
            state,
            error,
            retry_at,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(auction_id) = auction_id {
            if state != "pending" {
                sqlx::query!(
                    "UPDATE auctions SET notice = $2 WHERE id = $1",
                    auction_id,
                    state
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
