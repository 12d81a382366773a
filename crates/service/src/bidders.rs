//! Bidders: creating one (with its secrets, shown once), listing them, changing one, and
//! its keys (rotation, revocation). Every change is logged (an audit line, no secrets)
//! within the request's span, so it carries the admin's request id.

use chrono::{DateTime, Utc};
use gavel_domain::bidder::key_prefix;
use gavel_domain::{Bidder, BidderId, BidderKey, BidderPatchInput, NewBidderInput};
use gavel_storage::{NewBidderRow, StorageError};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{hash_token, new_api_key, new_webhook_secret};
use crate::{ServiceError, Services};

/// A newly created bidder and its secrets, which are not kept readable anywhere else.
#[derive(Debug)]
pub struct CreatedBidder {
    /// The bidder.
    pub bidder: Bidder,
    /// Bearer key for bidding (only its hash is stored).
    pub api_key: SecretString,
    /// Secret that signs notices.
    pub webhook_secret: SecretString,
}

/// A new key of a bidder, shown once.
#[derive(Debug)]
pub struct CreatedKey {
    /// The key as listed.
    pub key: BidderKey,
    /// The key itself (only its hash is stored).
    pub api_key: SecretString,
}

/// Longest expiry `expire_others_in_secs` may set: 30 days.
pub const MAX_EXPIRE_OTHERS_SECS: u64 = 30 * 24 * 3600;

/// A missing row of a bidder call is the bidder (or its key) missing.
fn bidder_missing(e: StorageError) -> ServiceError {
    match e {
        StorageError::NotFound => ServiceError::BidderNotFound,
        e => e.into(),
    }
}

impl Services {
    /// Checks the input, makes a key and a webhook secret, stores the bidder.
    /// Shared by the HTTP route and `gavel bidder create`.
    pub async fn create_bidder(
        &self,
        input: NewBidderInput,
    ) -> Result<CreatedBidder, ServiceError> {
        let new = input.validate(self.webhooks.targets)?;
        let api_key = new_api_key();
        let webhook_secret = new_webhook_secret();
        let bidder = self
            .storage
            .create_bidder(NewBidderRow {
                name: &new.name,
                webhook_url: new.webhook_url.as_deref(),
                api_key_hash: &hash_token(api_key.expose_secret()),
                key_prefix: &key_prefix(api_key.expose_secret()),
                webhook_secret: webhook_secret.expose_secret(),
            })
            .await?;
        tracing::info!(audit = "bidder.created", bidder_id = bidder.id.get(), name = %bidder.name, "bidder created");
        Ok(CreatedBidder {
            bidder,
            api_key,
            webhook_secret,
        })
    }

    /// Bidders newest first, `limit` of them below `before`.
    pub async fn bidders(
        &self,
        limit: i64,
        before: Option<BidderId>,
    ) -> Result<Vec<Bidder>, ServiceError> {
        Ok(self.storage.list_bidders(limit, before).await?)
    }

    /// One bidder and its live keys.
    pub async fn bidder(&self, id: BidderId) -> Result<(Bidder, Vec<BidderKey>), ServiceError> {
        self.storage.get_bidder(id).await.map_err(bidder_missing)
    }

    /// Changes a bidder: name, webhook, status, rate limit. Takes effect on every instance
    /// within the key memo's period.
    pub async fn update_bidder(
        &self,
        id: BidderId,
        input: BidderPatchInput,
    ) -> Result<Bidder, ServiceError> {
        let patch = input.validate(self.webhooks.targets)?;
        let bidder = self
            .storage
            .update_bidder(id, &patch)
            .await
            .map_err(bidder_missing)?;
        tracing::info!(
            audit = "bidder.updated",
            bidder_id = id.get(),
            name_changed = patch.name.is_some(),
            webhook_changed = patch.webhook_url.is_some(),
            status = patch.status.map(|s| s.as_str()),
            rate_limit = ?patch.rate_limit,
            "bidder changed"
        );
        Ok(bidder)
    }

    /// A new key for bidder `id`; with `expire_others_in`, its other keys stop working
    /// that long from now.
    pub async fn create_bidder_key(
        &self,
        id: BidderId,
        expire_others_in: Option<std::time::Duration>,
    ) -> Result<CreatedKey, ServiceError> {
        let expire_at: Option<DateTime<Utc>> = expire_others_in
            .map(|d| Utc::now() + chrono::Duration::from_std(d).unwrap_or_default());
        let api_key = new_api_key();
        let key = self
            .storage
            .add_bidder_key(
                id,
                &hash_token(api_key.expose_secret()),
                &key_prefix(api_key.expose_secret()),
                expire_at,
            )
            .await
            .map_err(bidder_missing)?;
        tracing::info!(
            audit = "bidder.key_created",
            bidder_id = id.get(),
            key_id = key.key_id,
            prefix = %key.prefix,
            others_expire_at = ?expire_at,
            "bidder key created"
        );
        Ok(CreatedKey { key, api_key })
    }

    /// Revokes bidder `id`'s key `key_id`: refused by every instance within the key memo's
    /// period.
    pub async fn revoke_bidder_key(&self, id: BidderId, key_id: i64) -> Result<(), ServiceError> {
        self.storage
            .revoke_bidder_key(id, key_id)
            .await
            .map_err(bidder_missing)?;
        tracing::info!(
            audit = "bidder.key_revoked",
            bidder_id = id.get(),
            key_id,
            "bidder key revoked"
        );
        Ok(())
    }
}
