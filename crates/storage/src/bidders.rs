//! Bidders: the exchanges and seats that hold API keys.

use gavel_domain::{Bidder, BidderId};

use crate::rows::BidderRow;
use crate::{Storage, StorageError};

/// A bidder to store; the caller made the key and keeps only its hash here (its `Debug`
/// shows neither the hash nor the secret).
#[derive(Clone)]
pub struct NewBidderRow<'a> {
    /// Display name.
    pub name: &'a str,
    /// Where win notices go.
    pub webhook_url: Option<&'a str>,
    /// SHA-256 of the API key.
    pub api_key_hash: &'a [u8],
    /// Secret that signs win notices.
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

impl Storage {
    /// Stores a new bidder.
    pub async fn create_bidder(&self, b: NewBidderRow<'_>) -> Result<Bidder, StorageError> {
        sqlx::query_as!(
            BidderRow,
            r#"INSERT INTO bidders (name, webhook_url, api_key_hash, webhook_secret)
               VALUES ($1, $2, $3, $4)
               RETURNING id, name, webhook_url, created_at"#,
            b.name,
            b.webhook_url,
            b.api_key_hash,
            b.webhook_secret,
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
            r#"SELECT id, name, webhook_url, created_at FROM bidders
               WHERE ($1::BIGINT IS NULL OR id < $1)
               ORDER BY id DESC LIMIT $2"#,
            before.map(BidderId::get),
            limit,
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        crate::rows::all(rows)
    }

    /// The bidder whose API key hashes to `hash`, with the stored hash (for a
    /// constant-time comparison by the caller).
    pub async fn find_bidder_by_key_hash(
        &self,
        hash: &[u8],
    ) -> Result<Option<(BidderId, Vec<u8>)>, StorageError> {
        let row = sqlx::query!(
            "SELECT id, api_key_hash FROM bidders WHERE api_key_hash = $1",
            hash
        )
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|r| Ok((crate::rows::bidder_id(r.id)?, r.api_key_hash)))
            .transpose()
    }
}
