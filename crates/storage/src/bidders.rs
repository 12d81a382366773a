//! Bidders: the exchanges and seats that hold API keys, and their keys.

use chrono::{DateTime, Utc};
use gavel_domain::{Bidder, BidderId, BidderKey, BidderPatch, BidderStatus};
use sqlx::Connection as _;

use crate::rows::BidderRow;
use crate::{Storage, StorageError};

/// A bidder to store; the caller made the key and keeps only its hash here (its `Debug`
/// shows neither the hash nor the secret).
#[derive(Clone)]
pub struct NewBidderRow<'a> {
    /// Display name.
    pub name: &'a str,
    /// Where notices go.
    pub webhook_url: Option<&'a str>,
    /// SHA-256 of the API key.
    pub api_key_hash: &'a [u8],
    /// The key's first characters, shown to tell keys apart.
    pub key_prefix: &'a str,
    /// Secret that signs notices.
    pub webhook_secret: &'a str,
}

impl std::fmt::Debug for NewBidderRow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewBidderRow")
            .field("name", &self.name)
            .field("webhook_url", &self.webhook_url)
            .finish_non_exhaustive()
    }
}

/// Who a live key belongs to, as authentication needs it.
#[derive(Debug, Clone)]
pub struct KeyOwner {
    /// The bidder.
    pub bidder_id: BidderId,
    /// The stored hash (for a constant-time comparison by the caller).
    pub key_hash: Vec<u8>,
    /// The bidder's status.
    pub status: BidderStatus,
    /// The bidder's own rate limit.
    pub rate_limit: Option<u32>,
    /// When the key stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

fn status(s: &str) -> Result<BidderStatus, StorageError> {
    BidderStatus::parse(s).ok_or_else(|| StorageError::Corrupt(format!("bidder status {s}")))
}

fn rate(r: Option<i32>) -> Option<u32> {
    r.and_then(|r| u32::try_from(r).ok())
}

impl Storage {
    /// Stores a bidder and its first key.
    pub async fn create_bidder(&self, b: NewBidderRow<'_>) -> Result<Bidder, StorageError> {
        sqlx::query_as!(
            BidderRow,
            r#"WITH b AS (
                   INSERT INTO bidders (name, webhook_url, api_key_hash, webhook_secret)
                   VALUES ($1, $2, $3, $4)
                   RETURNING id, name, webhook_url, status, rate_limit, created_at
               ), k AS (
                   INSERT INTO bidder_keys (bidder_id, key_hash, prefix, created_at)
                   SELECT id, $3, $5, created_at FROM b
               )
               SELECT id AS "id!", name AS "name!", webhook_url, status AS "status!",
                      rate_limit, created_at AS "created_at!"
               FROM b"#,
            b.name,
            b.webhook_url,
            b.api_key_hash,
            b.webhook_secret,
            b.key_prefix,
        )
        .fetch_one(&mut *self.conn().await?)
        .await?
        .try_into()
    }

    /// Bidders newest first, `limit` of them with ids below `before`.
    pub async fn list_bidders(
        &self,
        limit: i64,
        before: Option<BidderId>,
    ) -> Result<Vec<Bidder>, StorageError> {
        let rows = sqlx::query_as!(
            BidderRow,
            r#"SELECT id, name, webhook_url, status, rate_limit, created_at FROM bidders
               WHERE ($1::BIGINT IS NULL OR id < $1)
               ORDER BY id DESC LIMIT $2"#,
            before.map(BidderId::get),
            limit,
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        crate::rows::all(rows)
    }

    /// One bidder and its keys not revoked (oldest first); `NotFound` when there is none.
    pub async fn get_bidder(&self, id: BidderId) -> Result<(Bidder, Vec<BidderKey>), StorageError> {
        let mut conn = self.conn().await?;
        let bidder: Bidder = sqlx::query_as!(
            BidderRow,
            r#"SELECT id, name, webhook_url, status, rate_limit, created_at FROM bidders
               WHERE id = $1"#,
            id.get(),
        )
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StorageError::NotFound)?
        .try_into()?;
        let keys = sqlx::query!(
            r#"SELECT id, prefix, created_at, expires_at FROM bidder_keys
               WHERE bidder_id = $1 AND revoked_at IS NULL ORDER BY id"#,
            id.get(),
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|k| BidderKey {
            key_id: k.id,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
        })
        .collect();
        Ok((bidder, keys))
    }

    /// Applies a validated change; `NotFound` when there is no such bidder.
    pub async fn update_bidder(
        &self,
        id: BidderId,
        p: &BidderPatch,
    ) -> Result<Bidder, StorageError> {
        let rate_limit = p.rate_limit.map(|r| r.map(|n| n as i32));
        sqlx::query_as!(
            BidderRow,
            r#"UPDATE bidders SET
                   name = COALESCE($2, name),
                   webhook_url = CASE WHEN $3 THEN $4 ELSE webhook_url END,
                   status = COALESCE($5, status),
                   rate_limit = CASE WHEN $6 THEN $7 ELSE rate_limit END
               WHERE id = $1
               RETURNING id, name, webhook_url, status, rate_limit, created_at"#,
            id.get(),
            p.name.as_deref(),
            p.webhook_url.is_some(),
            p.webhook_url.clone().flatten(),
            p.status.map(|s| s.as_str()),
            rate_limit.is_some(),
            rate_limit.flatten(),
        )
        .fetch_optional(&mut *self.conn().await?)
        .await?
        .ok_or(StorageError::NotFound)?
        .try_into()
    }

    /// Adds a key to bidder `id`; with `expire_others_at`, its other live keys stop working
    /// then (or sooner, if they already would). `NotFound` when there is no such bidder.
    pub async fn add_bidder_key(
        &self,
        id: BidderId,
        key_hash: &[u8],
        prefix: &str,
        expire_others_at: Option<DateTime<Utc>>,
    ) -> Result<BidderKey, StorageError> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await?;
        let key = sqlx::query!(
            r#"INSERT INTO bidder_keys (bidder_id, key_hash, prefix)
               SELECT id, $2, $3 FROM bidders WHERE id = $1
               RETURNING id, created_at"#,
            id.get(),
            key_hash,
            prefix,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
        if let Some(at) = expire_others_at {
            sqlx::query!(
                r#"UPDATE bidder_keys SET expires_at = LEAST(COALESCE(expires_at, $3), $3)
                   WHERE bidder_id = $1 AND id <> $2 AND revoked_at IS NULL"#,
                id.get(),
                key.id,
                at,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(BidderKey {
            key_id: key.id,
            prefix: prefix.to_string(),
            created_at: key.created_at,
            expires_at: None,
        })
    }

    /// Revokes bidder `id`'s key `key_id`; `NotFound` when it has no such live key.
    pub async fn revoke_bidder_key(&self, id: BidderId, key_id: i64) -> Result<(), StorageError> {
        let done = sqlx::query!(
            r#"UPDATE bidder_keys SET revoked_at = now()
               WHERE id = $2 AND bidder_id = $1 AND revoked_at IS NULL"#,
            id.get(),
            key_id,
        )
        .execute(&mut *self.conn().await?)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    /// Who the live (not revoked) key hashing to `hash` belongs to.
    pub async fn find_key(&self, hash: &[u8]) -> Result<Option<KeyOwner>, StorageError> {
        let row = sqlx::query!(
            r#"SELECT k.bidder_id, k.key_hash, k.expires_at, b.status, b.rate_limit
               FROM bidder_keys k JOIN bidders b ON b.id = k.bidder_id
               WHERE k.key_hash = $1 AND k.revoked_at IS NULL"#,
            hash
        )
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|r| {
            Ok(KeyOwner {
                bidder_id: crate::rows::bidder_id(r.bidder_id)?,
                key_hash: r.key_hash,
                status: status(&r.status)?,
                rate_limit: rate(r.rate_limit),
                expires_at: r.expires_at,
            })
        })
        .transpose()
    }
}

impl TryFrom<BidderRow> for Bidder {
    type Error = StorageError;

    fn try_from(r: BidderRow) -> Result<Self, StorageError> {
        Ok(Bidder {
            id: crate::rows::bidder_id(r.id)?,
            name: r.name,
            webhook_url: r.webhook_url,
            status: status(&r.status)?,
            rate_limit: rate(r.rate_limit),
            created_at: r.created_at,
        })
    }
}
