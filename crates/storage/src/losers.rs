//! Loss notices queued where auctions are settled or cancelled: one statement writes every
//! losing bidder's notice.

use chrono::{DateTime, Utc};
use gavel_domain::{LossNotice, LossReason, Notice};
use rust_decimal::Decimal;

use crate::notices::{DueNotice, Outbox};
use crate::rows::{auction_id, bid_id, bidder_id};
use crate::StorageError;

/// Who lost auctions just settled or cancelled, as the queuing statement takes them: per
/// auction, its winner (if any), why the others lost and what would have won.
#[derive(Debug, Default)]
pub(crate) struct Losers {
    pub auction: Vec<i64>,
    pub winner: Vec<Option<i64>>,
    pub reason: Vec<i16>,
    pub min_to_win: Vec<Option<Decimal>>,
}

impl Losers {
    /// Adds one auction.
    pub fn push(
        &mut self,
        auction: i64,
        winner: Option<i64>,
        reason: LossReason,
        min: Option<Decimal>,
    ) {
        self.auction.push(auction);
        self.winner.push(winner);
        self.reason.push(reason.code());
        self.min_to_win.push(min);
    }

    /// Queues one loss notice per bidder with a webhook that bid on these auctions and did
    /// not win, naming its highest bid (earliest among equals): one statement for all.
    /// Each is leased for `lease_secs` (0: due at once), so that the caller may send it
    /// without claiming it; returns them.
    pub async fn queue(
        &self,
        tx: &mut sqlx::PgConnection,
        lease_secs: i32,
    ) -> Result<Vec<QueuedLoss>, StorageError> {
        if self.auction.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as!(
            QueuedLoss,
            // Per auction (LATERAL), so each reads its own bids by index: joined as a set,
            // the planner may scan the whole bids table, and settlement then slows as it
            // grows.
            r#"WITH queued AS (
                   INSERT INTO loss_notices (auction_id, bidder_id, bid_id, loss_reason,
                                             min_to_win, url, next_attempt_at)
                   SELECT l.auction_id, l.bidder_id, l.id, l.reason, l.min_to_win, l.url,
                          now() + make_interval(secs => $5)
                   FROM (
                       SELECT b.auction_id, b.bidder_id, b.id, u.reason, u.min_to_win,
                              (SELECT h.webhook_url FROM bidders h WHERE h.id = b.bidder_id) AS url
                       FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::SMALLINT[], $4::NUMERIC[])
                            AS u(auction_id, winner, reason, min_to_win)
                       CROSS JOIN LATERAL (
                           SELECT DISTINCT ON (x.bidder_id) x.auction_id, x.bidder_id, x.id
                           FROM bids x
                           WHERE x.auction_id = u.auction_id
                             AND x.bidder_id IS DISTINCT FROM u.winner
                           ORDER BY x.bidder_id, x.amount DESC, x.id
                       ) b
                   ) l
                   WHERE l.url IS NOT NULL
                   RETURNING id, notice_id, auction_id, bidder_id, bid_id, loss_reason,
                             min_to_win, url, attempts
               )
               SELECT q.id, q.notice_id::TEXT AS "notice_id!", q.auction_id, q.bidder_id,
                      q.bid_id, q.loss_reason, q.min_to_win, q.url, q.attempts, h.webhook_secret
               FROM queued q JOIN bidders h ON h.id = q.bidder_id"#,
            &self.auction,
            &self.winner as &[Option<i64>],
            &self.reason,
            &self.min_to_win as &[Option<Decimal>],
            f64::from(lease_secs),
        )
        .fetch_all(&mut *tx)
        .await?)
    }
}

/// A loss notice row as read (just queued, or claimed); with what its auction adds it
/// becomes a [`DueNotice`].
pub(crate) struct QueuedLoss {
    pub id: i64,
    pub notice_id: String,
    pub auction_id: i64,
    pub bidder_id: i64,
    pub bid_id: i64,
    pub loss_reason: i16,
    pub min_to_win: Option<Decimal>,
    pub url: String,
    pub attempts: i32,
    pub webhook_secret: String,
}

impl QueuedLoss {
    /// The notice, told the auction's price, currency and end.
    pub(crate) fn due(
        self,
        clearing_price: Option<gavel_domain::Money>,
        currency: &str,
        closed_at: DateTime<Utc>,
    ) -> Result<DueNotice, StorageError> {
        let loss_reason = LossReason::from_code(self.loss_reason).ok_or_else(|| {
            StorageError::Corrupt(format!("loss notice {}: unknown reason", self.id))
        })?;
        Ok(DueNotice {
            id: self.id,
            outbox: Outbox::Losses,
            notice: Notice::Lost(LossNotice {
                notice_id: self.notice_id,
                auction_id: auction_id(self.auction_id)?,
                bidder_id: bidder_id(self.bidder_id)?,
                bid_id: bid_id(self.bid_id)?,
                loss_reason,
                min_to_win: self.min_to_win,
                clearing_price,
                currency: currency.to_string(),
                closed_at,
            }),
            url: self.url,
            attempts: self.attempts,
            webhook_secret: self.webhook_secret,
        })
    }
}
