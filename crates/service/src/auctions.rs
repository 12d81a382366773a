//! Auctions: create, read, list, cancel.

use gavel_domain::{Auction, AuctionId, AuctionStatus, NewAuctionInput};

use crate::{ServiceError, Services};

impl Services {
    /// Validates and stores a new auction.
    pub async fn create_auction(&self, input: NewAuctionInput) -> Result<Auction, ServiceError> {
        let auction = input.validate(chrono::Utc::now())?;
        Ok(self.storage.create_auction(&auction).await?)
    }

    /// One auction.
    pub async fn auction(&self, id: AuctionId) -> Result<Auction, ServiceError> {
        Ok(self.storage.get_auction(id).await?)
    }

    /// Auctions newest first, `limit` of them below `before`, optionally of one status.
    pub async fn auctions(
        &self,
        status: Option<AuctionStatus>,
        limit: i64,
        before: Option<AuctionId>,
    ) -> Result<Vec<Auction>, ServiceError> {
        Ok(self.storage.list_auctions(status, limit, before).await?)
    }

    /// Cancels a scheduled or open auction and forgets its fast-path entry.
    pub async fn cancel_auction(&self, id: AuctionId) -> Result<Auction, ServiceError> {
        let auction = self.storage.cancel_auction(id).await?;
        self.cache.forget(id).await;
        Ok(auction)
    }
}
