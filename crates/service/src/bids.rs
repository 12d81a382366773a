//! Reading bids back, as the caller may see them.

use gavel_domain::visibility::bids_visible_to;
use gavel_domain::{Auction, AuctionId, Bid, BidId};

use crate::auth::Caller;
use crate::{ServiceError, Services};

impl Services {
    /// An auction and `limit` of its bids below `before`, newest first: on sealed auctions
    /// a bidder sees only its own bids until the auction is closed.
    pub async fn bids(
        &self,
        caller: Caller,
        auction_id: AuctionId,
        limit: i64,
        before: Option<BidId>,
    ) -> Result<(Auction, Vec<Bid>), ServiceError> {
        let auction = self.storage.get_auction(auction_id).await?;
        let only = bids_visible_to(caller.viewer(), auction.kind, auction.status());
        let bids = self
            .storage
            .list_bids(auction_id, only, limit, before)
            .await?;
        Ok((auction, bids))
    }
}
