//! Settling auctions past their end, and telling their streams.

use gavel_domain::AuctionEvent;
use gavel_storage::StorageError;

use crate::Services;

/// Most auctions settled in one transaction.
const SETTLE_BATCH: i64 = 100;

impl Services {
    /// Settles every auction past its end (in batches), forgets their fast-path entries
    /// and publishes `closed`. Returns how many were settled.
    pub async fn settle_due(&self) -> usize {
        let mut total = 0;
        loop {
            let settled = match self.storage.settle_due(SETTLE_BATCH).await {
                Ok(s) => s,
                Err(StorageError::Unavailable) => return total,
                Err(e) => {
                    tracing::warn!(error = %e, "settlement round failed; retrying");
                    return total;
                }
            };
            let full = settled.len() as i64 == SETTLE_BATCH;
            total += settled.len();
            for s in settled {
                let auction = s.auction;
                tracing::info!(
                    auction_id = auction.id.get(),
                    winner_bidder_id = auction
                        .result
                        .as_ref()
                        .and_then(|r| r.winner)
                        .map(|w| w.bidder_id.get()),
                    "auction settled"
                );
                self.board.forget(auction.id);
                self.cache.forget(auction.id).await;
                self.events.publish(AuctionEvent::Closed {
                    auction: Box::new(auction),
                });
            }
            if !full {
                return total;
            }
        }
    }
}
