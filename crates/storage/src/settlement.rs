//! Settlement: closing auctions past their end, exactly once across instances, a whole
//! batch in a fixed number of statements.

use sqlx::Connection as _;
use std::collections::HashMap;
use std::time::Duration;

use gavel_domain::notice::loss_terms;
use gavel_domain::settlement::BIDS_NEEDED;
use gavel_domain::{settle, Auction, SettlementBid};

use crate::notices::Losers;
use crate::rows::{bid_id, bidder_id, kind, money, AuctionRow};
use crate::{Storage, StorageError};

/// An auction this call settled.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledAuction {
    /// The auction as closed.
    pub auction: Auction,
    /// A win notice was queued.
    pub notice_queued: bool,
    /// Loss notices were queued (bidders with webhooks that bid and lost).
    pub losers_told: bool,
}

impl Storage {
    /// Settles up to `limit` auctions whose end has passed, in one transaction.
    ///
    /// Rows are claimed with `FOR UPDATE SKIP LOCKED` and settled under that lock, so
    /// instances running this at once never settle one auction twice; an auction locked
    /// by a bid in flight is simply taken on the next round. The domain decides each
    /// outcome from the auction's best bids (a window query fetches only those).
    pub async fn settle_due(&self, limit: i64) -> Result<Vec<SettledAuction>, StorageError> {
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await?;
        let due = sqlx::query!(
            r#"SELECT id, kind, reserve_price, min_increment FROM auctions
               WHERE closed_at IS NULL AND cancelled_at IS NULL AND ends_at <= clock_timestamp()
               ORDER BY ends_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED"#,
            limit
        )
        .fetch_all(&mut *tx)
        .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = due.iter().map(|a| a.id).collect();
        let mut best: HashMap<i64, Vec<SettlementBid>> = HashMap::with_capacity(due.len());
        let rows = sqlx::query!(
            r#"SELECT auction_id AS "auction_id!", id AS "id!", bidder_id AS "bidder_id!",
                      amount AS "amount!"
               FROM (SELECT auction_id, id, bidder_id, amount,
                            row_number() OVER (PARTITION BY auction_id
                                               ORDER BY amount DESC, id) AS rank
                     FROM bids WHERE auction_id = ANY($1)) ranked
               WHERE rank <= $2"#,
            &ids,
            BIDS_NEEDED as i64,
        )
        .fetch_all(&mut *tx)
        .await?;
        for b in rows {
            best.entry(b.auction_id).or_default().push(SettlementBid {
                bid_id: bid_id(b.id)?,
                bidder_id: bidder_id(b.bidder_id)?,
                amount: money("bid amount", b.amount)?,
            });
        }
        let mut outcomes = Vec::with_capacity(due.len());
        let mut losers = Losers::default();
        for a in &due {
            let bids = best.remove(&a.id).unwrap_or_default();
            let reserve = money("reserve price", a.reserve_price)?;
            let kind = kind(&a.kind)?;
            let settled = settle(kind, reserve, &bids);
            let increment = money("min increment", a.min_increment)?;
            let (reason, min) = loss_terms(kind, reserve, increment, &settled);
            let winner = settled.winner.map(|w| w.bidder_id.get());
            losers.push(a.id, winner, reason, Some(min));
            outcomes.push((a.id, settled));
        }
        let winners: Vec<i64> = outcomes
            .iter()
            .filter_map(|(_, o)| o.winner.map(|w| w.bidder_id.get()))
            .collect();
        let hooks: HashMap<i64, String> = sqlx::query!(
            r#"SELECT id, webhook_url AS "webhook_url!" FROM bidders
               WHERE id = ANY($1) AND webhook_url IS NOT NULL"#,
            &winners
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.webhook_url))
        .collect();

        let mut col_id = Vec::with_capacity(outcomes.len());
        let mut col_winner = Vec::with_capacity(outcomes.len());
        let mut col_bid = Vec::with_capacity(outcomes.len());
        let mut col_price = Vec::with_capacity(outcomes.len());
        let mut col_notice = Vec::with_capacity(outcomes.len());
        let (mut n_auction, mut n_bidder, mut n_url) = (Vec::new(), Vec::new(), Vec::new());
        for (id, o) in &outcomes {
            let w = o.winner;
            let url = w.and_then(|w| hooks.get(&w.bidder_id.get()));
            col_id.push(*id);
            col_winner.push(w.map(|w| w.bidder_id.get()));
            col_bid.push(w.map(|w| w.bid_id.get()));
            col_price.push(o.clearing_price.map(|p| p.as_decimal()));
            col_notice.push(if url.is_some() { "pending" } else { "none" });
            if let (Some(w), Some(url)) = (w, url) {
                n_auction.push(*id);
                n_bidder.push(w.bidder_id.get());
                n_url.push(url.clone());
            }
        }
        let closed = sqlx::query_as!(
            AuctionRow,
            r#"UPDATE auctions a SET
                   closed_at = clock_timestamp(),
                   winner_bidder_id = u.winner,
                   winning_bid_id = u.bid,
                   clearing_price = u.price,
                   notice = u.notice
               FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::NUMERIC[], $5::TEXT[])
                    AS u(id, winner, bid, price, notice)
               WHERE a.id = u.id
               RETURNING a.id, a.title, a.kind, a.currency, a.reserve_price, a.min_increment,
                         a.extend_secs, a.starts_at, a.ends_at, a.cancelled_at, a.highest_bid_id,
                         a.highest_bidder_id, a.highest_amount, a.bid_count, a.closed_at,
                         a.winner_bidder_id, a.winning_bid_id, a.clearing_price, a.notice,
                         a.created_at, clock_timestamp() AS "db_now!""#,
            &col_id,
            &col_winner as &[Option<i64>],
            &col_bid as &[Option<i64>],
            &col_price as &[Option<rust_decimal::Decimal>],
            &col_notice as &[&str],
        )
        .fetch_all(&mut *tx)
        .await?;
        if !n_auction.is_empty() {
            // The notices' bodies are rendered at delivery from the settled auctions.
            sqlx::query!(
                "INSERT INTO win_notices (auction_id, bidder_id, url)
                 SELECT a, b, u FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[]) AS n(a, b, u)",
                &n_auction,
                &n_bidder,
                &n_url,
            )
            .execute(&mut *tx)
            .await?;
        }
        let told = losers.queue(&mut tx).await?;
        tx.commit().await?;
        let queued: std::collections::HashSet<i64> = n_auction.into_iter().collect();
        closed
            .into_iter()
            .map(|row| {
                let notice_queued = queued.contains(&row.id);
                let losers_told = told.contains(&row.id);
                Ok(SettledAuction {
                    auction: row.try_into()?,
                    notice_queued,
                    losers_told,
                })
            })
            .collect()
    }

    /// How long until the next unsettled auction ends (zero when one already has), or
    /// `None` when none is waiting: the closer sleeps that long.
    pub async fn next_end_in(&self) -> Result<Option<Duration>, StorageError> {
        let secs = sqlx::query_scalar!(
            r#"SELECT EXTRACT(EPOCH FROM min(ends_at) - clock_timestamp())::FLOAT8 AS "secs"
               FROM auctions WHERE closed_at IS NULL AND cancelled_at IS NULL"#
        )
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(secs.map(|s| Duration::from_secs_f64(s.max(0.0))))
    }
}
