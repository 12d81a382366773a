//! Settlement: closing auctions past their end, exactly once across instances.

use gavel_domain::{settle, Auction, SettlementBid};

use crate::rows::{bid_id, bidder_id, kind, money, AuctionRow};
use crate::{Storage, StorageError};

/// An auction this call settled.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledAuction {
    /// The auction as closed.
    pub auction: Auction,
    /// A win notice was queued.
    pub notice_queued: bool,
}

impl Storage {
    /// Settles up to `limit` auctions whose end has passed, in one transaction.
    ///
    /// Rows are claimed with `FOR UPDATE SKIP LOCKED` and re-checked unsettled under the
    /// lock, so instances running this at once never settle one auction twice; an auction
    /// locked by a bid in flight is simply taken on the next round.
    pub async fn settle_due(&self, limit: i64) -> Result<Vec<SettledAuction>, StorageError> {
        let mut tx = self.db()?.begin().await?;
        let due = sqlx::query!(
            r#"SELECT id, kind, reserve_price FROM auctions
               WHERE closed_at IS NULL AND cancelled_at IS NULL AND ends_at <= clock_timestamp()
               ORDER BY ends_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED"#,
            limit
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut settled = Vec::with_capacity(due.len());
        for a in due {
            let bids = sqlx::query!(
                "SELECT id, bidder_id, amount FROM bids WHERE auction_id = $1",
                a.id
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|b| {
                Ok(SettlementBid {
                    bid_id: bid_id(b.id)?,
                    bidder_id: bidder_id(b.bidder_id)?,
                    amount: money("bid amount", b.amount)?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
            let outcome = settle(
                kind(&a.kind)?,
                money("reserve price", a.reserve_price)?,
                &bids,
            );
            let webhook_url = match outcome.winner {
                Some(w) => {
                    sqlx::query_scalar!(
                        "SELECT webhook_url FROM bidders WHERE id = $1",
                        w.bidder_id.get()
                    )
                    .fetch_one(&mut *tx)
                    .await?
                }
                None => None,
            };
            let closed = sqlx::query_as!(
                AuctionRow,
                r#"UPDATE auctions SET
                       closed_at = clock_timestamp(),
                       winner_bidder_id = $2,
                       winning_bid_id = $3,
                       clearing_price = $4,
                       notice = CASE WHEN $5 THEN 'pending' ELSE 'none' END
                   WHERE id = $1
                   RETURNING *, clock_timestamp() AS "db_now!""#,
                a.id,
                outcome.winner.map(|w| w.bidder_id.get()),
                outcome.winner.map(|w| w.bid_id.get()),
                outcome.clearing_price.map(|p| p.as_decimal()),
                webhook_url.is_some(),
            )
            .fetch_one(&mut *tx)
            .await?;
            if let (Some(url), Some(w)) = (&webhook_url, outcome.winner) {
                // The notice's body is rendered at delivery from the settled auction.
                sqlx::query!(
                    "INSERT INTO win_notices (auction_id, bidder_id, url) VALUES ($1, $2, $3)",
                    a.id,
                    w.bidder_id.get(),
                    url,
                )
                .execute(&mut *tx)
                .await?;
            }
            settled.push(SettledAuction {
                auction: closed.try_into()?,
                notice_queued: webhook_url.is_some(),
            });
        }
        tx.commit().await?;
        Ok(settled)
    }
}
