//! Bidders: the exchanges and seats that hold API keys.

use chrono::{DateTime, Utc};

use crate::{Storage, StorageError};

/// A bidder as stored (never its key).
#[derive(Debug, Clone, PartialEq)]
pub struct BidderRecord {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Where win notices go.
    pub webhook_url: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A bidder to create; the caller made the key and keeps only its hash here.
#[derive(Debug, Clone)]
pub struct NewBidder<'a> {
    /// Display name.
    pub name: &'a str,
    /// Where win notices go.
    pub webhook_url: Option<&'a str>,
    /// SHA-256 of the API key.
    pub api_key_hash: &'a [u8],
    /// Secret that signs win notices.
    pub webhook_secret: &'a str,
}

impl Storage {
    /// Stores a new bidder.
    pub async fn create_bidder(&self, b: NewBidder<'_>) -> Result<BidderRecord, StorageError> {
        self.ensure_ready()?;
        let row = sqlx::query_as!(
            BidderRecord,
            r#"INSERT INTO bidders (name, webhook_url, api_key_hash, webhook_secret)
               VALUES ($1, $2, $3, $4)
               RETURNING id, name, webhook_url, created_at"#,
            b.name,
            b.webhook_url,
            b.api_key_hash,
            b.webhook_secret,
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    /// Bidders newest first, `limit` of them with ids below `before_id`.
    pub async fn list_bidders(
        &self,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<BidderRecord>, StorageError> {
        self.ensure_ready()?;
        let rows = sqlx::query_as!(
            BidderRecord,
            r#"SELECT id, name, webhook_url, created_at FROM bidders
               WHERE ($1::BIGINT IS NULL OR id < $1)
               ORDER BY id DESC LIMIT $2"#,
            before_id,
            limit,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// The id of the bidder whose API key hashes to `hash`, and the stored hash.
    pub async fn find_bidder_by_key_hash(
        &self,
        hash: &[u8],
    ) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
        self.ensure_ready()?;
        let row = sqlx::query!(
            "SELECT id, api_key_hash FROM bidders WHERE api_key_hash = $1",
            hash
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.id, r.api_key_hash)))
    }
}
