//! Auctions: create, read, list, cancel.

use gavel_domain::{Auction, AuctionEvent, AuctionId, AuctionStatus, NewAuctionInput};

use crate::board::CopyId;
use crate::{ServiceError, Services};

/// An auction read, and which copy in memory it is, when it is one.
#[derive(Debug, Clone)]
pub struct AuctionRead {
    /// The auction, its clock (`as_of`) at the time of the read.
    pub auction: Auction,
    /// The copy in memory it is: the same id, the same auction (see [`CopyId`]).
    pub copy: Option<CopyId>,
}

impl Services {
    /// Validates and stores a new auction.
    pub async fn create_auction(&self, input: NewAuctionInput) -> Result<Auction, ServiceError> {
        let auction = input.validate(chrono::Utc::now())?;
        let created = self.storage.create_auction(&auction).await?;
        self.wake_closer(created.ends_at);
        Ok(created)
    }

    /// One auction: from memory while fresh (see [`crate::board`]), else from PostgreSQL.
    pub async fn auction(&self, id: AuctionId) -> Result<Auction, ServiceError> {
        Ok(self.auction_read(id).await?.auction)
    }

    /// One auction, as [`Services::auction`] reads it, and which copy in memory it is
    /// (`None`: read from PostgreSQL and not kept, because it changed meanwhile).
    pub async fn auction_read(&self, id: AuctionId) -> Result<AuctionRead, ServiceError> {
        if let Some(kept) = self.board.get(id) {
            return Ok(AuctionRead {
                auction: kept.auction,
                copy: Some(kept.copy),
            });
        }
        let ticket = self.board.begin_read(id);
        let auction = self.storage.get_auction(id).await?;
        let copy = self.board.put(ticket, &auction);
        Ok(AuctionRead { auction, copy })
    }

    /// Fetches anew, in one statement, the copies in memory that were read again and are
    /// due (see [`crate::board`]); returns when the next of the others is due (`None`:
    /// none is queued). A failed fetch is left alone: those reads then fetch for
    /// themselves when their copy expires.
    pub async fn refresh_rereads(&self) -> Option<std::time::Duration> {
        let (due, next) = self.board.take_due();
        if due.is_empty() {
            return next;
        }
        let ids: Vec<AuctionId> = due.iter().map(|(id, _)| *id).collect();
        match self.storage.get_auctions(&ids).await {
            Ok(auctions) => {
                let tickets: std::collections::HashMap<_, _> = due.into_iter().collect();
                for a in &auctions {
                    if let Some(ticket) = tickets.get(&a.id) {
                        self.board.put(*ticket, a);
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "could not refresh auctions in memory"),
        }
        next
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

    /// Cancels a scheduled or open auction, forgets what the fast paths knew of it, and
    /// tells its streams.
    pub async fn cancel_auction(&self, id: AuctionId) -> Result<Auction, ServiceError> {
        let auction = self.storage.cancel_auction(id).await?;
        self.board.forget(id);
        self.cache.forget(id).await;
        self.events.publish(AuctionEvent::Cancelled {
            auction: Box::new(auction.clone()),
        });
        Ok(auction)
    }
}
