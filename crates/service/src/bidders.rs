//! Bidders: creating one (with its secrets, shown once) and listing them.

use gavel_domain::{Bidder, BidderId, NewBidderInput};
use gavel_storage::NewBidderRow;
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
    /// Secret that signs win notices.
    pub webhook_secret: SecretString,
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
                webhook_secret: webhook_secret.expose_secret(),
            })
            .await?;
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
}
