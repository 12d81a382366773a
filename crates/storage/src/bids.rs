//! Bids: the atomic decision, and reading them back.

use gavel_domain::{AuctionId, Bid, BidRejection, BidRequest, BidderId, PlacedBid};

use crate::rows::BidRow;
use crate::{Storage, StorageError};

/// How the domain decided a bid: accepted (and stored), or refused with a reason.
pub type Decision = Result<PlacedBid, BidRejection>;

impl Storage {
    /// Decides and records a bid, committed before this returns.
    ///
    /// The auction row is locked first (`FOR UPDATE`), so the decision sees the latest
    /// committed highest bid and every concurrent bid on the same auction, from any
    /// instance, waits its turn. The bid id is drawn while the lock is held, so accepted
    /// english bids ordered by id rise strictly. A refusal is a decision, not an error.
    /// Bids arriving together share one transaction (see `batcher`). A bid that no batch
    /// has taken by `deadline` is `DeadlineExceeded` then, and never decided.
    pub async fn place_bid(
        &self,
        req: &BidRequest,
        deadline: Option<std::time::Instant>,
    ) -> Result<Decision, StorageError> {
        self.db()?;
        self.batcher().submit(*req, deadline).await
    }

    /// Bids of an auction newest first; only `only_bidder`'s when given.
    pub async fn list_bids(
        &self,
        auction_id: AuctionId,
        only_bidder: Option<BidderId>,
        limit: i64,
        before: Option<gavel_domain::BidId>,
    ) -> Result<Vec<Bid>, StorageError> {
        let rows = sqlx::query_as!(
            BidRow,
            r#"SELECT id, auction_id, bidder_id, amount, created_at FROM bids
               WHERE auction_id = $1
                 AND ($2::BIGINT IS NULL OR bidder_id = $2)
                 AND ($3::BIGINT IS NULL OR id < $3)
               ORDER BY id DESC LIMIT $4"#,
            auction_id.get(),
            only_bidder.map(BidderId::get),
            before.map(gavel_domain::BidId::get),
            limit,
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        crate::rows::all(rows)
    }
}
