//! Settlement: closing auctions past their end, exactly once across instances.

use chrono::SecondsFormat;
use gavel_domain::money::format_amount;
use gavel_domain::{settle, AuctionKind, Money, SettlementBid};
use serde_json::json;

use crate::{AuctionRecord, Storage, StorageError};

/// An auction this call settled.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledAuction {
    /// The auction as closed.
    pub auction: AuctionRecord,
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
        self.ensure_ready()?;
        let mut tx = self.pool.begin().await?;
        let due = sqlx::query!(
            r#"SELECT id, kind, reserve_price, currency FROM auctions
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
            .filter_map(|b| {
                Some(SettlementBid {
                    bid_id: b.id,
                    bidder_id: b.bidder_id,
                    amount: Money::from_decimal(b.amount).ok()?,
                })
            })
            .collect::<Vec<_>>();
            let kind = AuctionKind::parse(&a.kind).unwrap_or_default();
            let reserve = Money::from_decimal(a.reserve_price).unwrap_or_default();
            let outcome = settle(kind, reserve, &bids);
            let webhook_url = match outcome.winner {
                Some(w) => {
                    sqlx::query_scalar!(
                        "SELECT webhook_url FROM bidders WHERE id = $1",
                        w.bidder_id
                    )
                    .fetch_one(&mut *tx)
                    .await?
                }
                None => None,
            };
            let closed = sqlx::query_as!(
                AuctionRecord,
                r#"UPDATE auctions SET
                       closed_at = clock_timestamp(),
                       winner_bidder_id = $2,
                       winning_bid_id = $3,
                       clearing_price = $4,
                       notice = CASE WHEN $5 THEN 'pending' ELSE 'none' END
                   WHERE id = $1
                   RETURNING id, title, kind, currency, reserve_price, min_increment, extend_secs,
                             starts_at, ends_at, cancelled_at, highest_bid_id, highest_bidder_id,
                             highest_amount, bid_count, closed_at, winner_bidder_id,
                             winning_bid_id, clearing_price, notice, created_at,
                             clock_timestamp() AS "db_now!""#,
                a.id,
                outcome.winner.map(|w| w.bidder_id),
                outcome.winner.map(|w| w.bid_id),
                outcome.clearing_price.map(|p| p.as_decimal()),
                webhook_url.is_some(),
            )
            .fetch_one(&mut *tx)
            .await?;
            if let (Some(url), Some(w), Some(price), Some(closed_at)) = (
                &webhook_url,
                outcome.winner,
                outcome.clearing_price,
                closed.closed_at,
            ) {
                let payload = json!({
                    "event": "auction.won",
                    "auction_id": a.id,
                    "bid_id": w.bid_id,
                    "bidder_id": w.bidder_id,
                    "clearing_price": format_amount(price.as_decimal()),
                    "currency": a.currency,
                    "closed_at": closed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                });
                // The notice id is drawn by the insert and written into its own payload.
                sqlx::query!(
                    "WITH drawn AS (SELECT gen_random_uuid() AS notice_id)
                     INSERT INTO win_notices (notice_id, auction_id, bidder_id, url, payload)
                     SELECT notice_id, $1, $2, $3,
                            $4::JSONB || jsonb_build_object('notice_id', notice_id::TEXT)
                     FROM drawn",
                    a.id,
                    w.bidder_id,
                    url,
                    payload,
                )
                .execute(&mut *tx)
                .await?;
            }
            settled.push(SettledAuction {
                auction: closed,
                notice_queued: webhook_url.is_some(),
            });
        }
        tx.commit().await?;
        Ok(settled)
    }
}
