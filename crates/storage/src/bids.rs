//! Bids: the atomic decision, and reading them back.

use gavel_domain::{
    decide_bid, AuctionId, Bid, BidContext, BidRejection, BidRequest, BidderId, PlacedBid,
};
use sqlx::PgConnection;

use crate::auctions::lock_auction;
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
    /// Bids arriving together share one transaction (see `batcher`).
    pub async fn place_bid(&self, req: &BidRequest) -> Result<Decision, StorageError> {
        self.db()?;
        self.batcher().submit(*req).await
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

/// The decision itself, inside the caller's transaction.
pub(crate) async fn decide_and_record(
    tx: &mut PgConnection,
    req: &BidRequest,
) -> Result<Decision, StorageError> {
    let locked = match lock_auction(tx, req.auction_id).await {
        Ok(a) => a,
        Err(StorageError::NotFound) => return Ok(Err(BidRejection::UnknownAuction)),
        Err(e) => return Err(e),
    };
    let state = locked.state();
    // A fresh statement after the lock: its snapshot sees every bid committed before.
    let bidder_already_bid = if state.kind.is_sealed() {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM bids WHERE auction_id = $1 AND bidder_id = $2)
               AS "exists!""#,
            req.auction_id.get(),
            req.bidder_id.get()
        )
        .fetch_one(&mut *tx)
        .await?
    } else {
        false
    };
    let ctx = BidContext {
        auction: &state,
        now: locked.as_of,
        bidder_already_bid,
    };
    let accepted = match decide_bid(&ctx, req.amount) {
        Ok(a) => a,
        Err(rejection) => return Ok(Err(rejection)),
    };
    let amount = req.amount.money();
    let row = sqlx::query!(
        r#"WITH bid AS (
               INSERT INTO bids (auction_id, bidder_id, amount, created_at)
               VALUES ($1, $2, $3, $4)
               RETURNING id, created_at
           )
           UPDATE auctions SET
               bid_count = bid_count + 1,
               highest_bid_id = CASE WHEN $5 THEN (SELECT id FROM bid) ELSE highest_bid_id END,
               highest_bidder_id = CASE WHEN $5 THEN $2 ELSE highest_bidder_id END,
               highest_amount = CASE WHEN $5 THEN $3 ELSE highest_amount END,
               ends_at = COALESCE($6, ends_at)
           WHERE id = $1
           RETURNING (SELECT id FROM bid) AS "bid_id!",
                     (SELECT created_at FROM bid) AS "created_at!",
                     ends_at, bid_count"#,
        req.auction_id.get(),
        req.bidder_id.get(),
        amount.as_decimal(),
        locked.as_of,
        accepted.becomes_highest,
        accepted.new_ends_at,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Ok(PlacedBid {
        bid: Bid {
            id: crate::rows::bid_id(row.bid_id)?,
            auction_id: req.auction_id,
            bidder_id: req.bidder_id,
            amount,
            created_at: row.created_at,
        },
        kind: state.kind,
        accepted,
        ends_at: row.ends_at,
        bid_count: row.bid_count,
    }))
}
