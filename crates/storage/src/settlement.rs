//! Settlement: closing auctions past their end, exactly once across instances, a whole
//! batch in a fixed number of statements.

use std::collections::HashMap;
use std::time::Duration;

use gavel_domain::notice::loss_terms;
use gavel_domain::settlement::BIDS_NEEDED;
use gavel_domain::{settle, Auction, SettlementBid};

use crate::losers::Losers;
use crate::notices::{DueNotice, Outbox};
use crate::rows::{bid_id, bidder_id, kind, money, AuctionRow};
use crate::{Storage, StorageError};

/// What one settlement round did.
#[derive(Debug)]
pub struct Settlement {
    /// The auctions it settled.
    pub auctions: Vec<SettledAuction>,
    /// The notices it queued, leased to the caller: sent without a claim.
    pub notices: Vec<DueNotice>,
}

/// An auction this call settled.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledAuction {
    /// The auction as closed.
    pub auction: Auction,
    /// A win notice was queued.
    pub notice_queued: bool,
}

impl Storage {
    /// Claims up to `limit` auctions whose end has passed, with their best bids and those
    /// bidders' webhooks, in a transaction left open for [`Claim::settle`]; `None` when
    /// none was due.
    ///
    /// Rows are claimed with `FOR UPDATE SKIP LOCKED` and settled under that lock, so
    /// instances (and claims) running at once never settle one auction twice; an auction
    /// locked by a bid in flight, or by a settlement not yet committed, is simply taken on
    /// a later round.
    pub async fn claim_due(&self, limit: i64) -> Result<Option<Claim>, StorageError> {
        let mut tx = self.begin().await?;
        // One statement claims the due auctions and reads, for each, its best bids (per
        // auction, by index) with their bidders' webhooks: every round trip before the
        // auctions are stamped closed adds to their settlement lag.
        let rows = sqlx::query!(
            r#"WITH due AS (
                   SELECT id, kind, reserve_price, min_increment FROM auctions
                   WHERE closed_at IS NULL AND cancelled_at IS NULL
                     AND ends_at <= clock_timestamp()
                   ORDER BY ends_at
                   LIMIT $1
                   FOR UPDATE SKIP LOCKED
               )
               SELECT d.id AS "id!", d.kind AS "kind!", d.reserve_price AS "reserve_price!",
                      d.min_increment AS "min_increment!", b.id AS "bid_id?",
                      b.bidder_id AS "bidder_id?", b.amount AS "amount?",
                      h.webhook_url AS "webhook_url?", h.webhook_secret AS "webhook_secret?"
               FROM due d
               LEFT JOIN LATERAL (
                   SELECT x.id, x.bidder_id, x.amount FROM bids x
                   WHERE x.auction_id = d.id
                   ORDER BY x.amount DESC, x.id
                   LIMIT $2
               ) b ON true
               LEFT JOIN bidders h ON h.id = b.bidder_id AND h.webhook_url IS NOT NULL"#,
            limit,
            BIDS_NEEDED as i64,
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut due: Vec<Due> = Vec::new();
        // Each auction's place in `due`: the rows come in no promised order.
        let mut at: HashMap<i64, usize> = HashMap::new();
        // The winner is always among an auction's best bids, so their bidders' webhooks
        // are every winner's.
        let mut hooks: HashMap<i64, (String, String)> = HashMap::new();
        for r in rows {
            let i = match at.get(&r.id) {
                Some(&i) => i,
                None => {
                    due.push(Due {
                        id: r.id,
                        kind: kind(&r.kind)?,
                        reserve: money("reserve price", r.reserve_price)?,
                        increment: money("min increment", r.min_increment)?,
                        best: Vec::new(),
                    });
                    at.insert(r.id, due.len() - 1);
                    due.len() - 1
                }
            };
            let d = &mut due[i];
            if let (Some(id), Some(bidder), Some(amount)) = (r.bid_id, r.bidder_id, r.amount) {
                d.best.push(SettlementBid {
                    bid_id: bid_id(id)?,
                    bidder_id: bidder_id(bidder)?,
                    amount: money("bid amount", amount)?,
                });
                if let (Some(url), Some(secret)) = (r.webhook_url, r.webhook_secret) {
                    hooks.insert(bidder, (url, secret));
                }
            }
        }
        Ok(Some(Claim { tx, due, hooks }))
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

/// An auction claimed for settlement, with what decides it.
struct Due {
    /// The auction.
    id: i64,
    /// Its kind, which decides the winner and price.
    kind: gavel_domain::AuctionKind,
    /// Its reserve price.
    reserve: gavel_domain::Money,
    /// Its minimum increment (what a loser would have needed to bid more).
    increment: gavel_domain::Money,
    /// Its best bids ([`BIDS_NEEDED`] at most).
    best: Vec<SettlementBid>,
}

/// Auctions claimed by [`Storage::claim_due`], locked in their open transaction until
/// [`Claim::settle`] settles them.
pub struct Claim {
    /// The settlement transaction, holding the auctions' locks.
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// The auctions claimed.
    due: Vec<Due>,
    /// Webhook (url, secret) per bidder among the auctions' best bids.
    hooks: HashMap<i64, (String, String)>,
}

impl Claim {
    /// How many auctions it holds.
    pub fn len(&self) -> usize {
        self.due.len()
    }

    /// Whether it holds none (never, as [`Storage::claim_due`] returns it).
    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
    }

    /// Decides the auctions (the domain's rule), stamps them closed with their outcomes,
    /// queues their win and loss notices (leased for `lease_secs`, so the caller sends
    /// them at once; another instance takes them only if the lease runs out) and commits.
    /// An error rolls all back: the auctions are claimed again on a later round.
    pub async fn settle(mut self, lease_secs: i32) -> Result<Settlement, StorageError> {
        let mut outcomes = Vec::with_capacity(self.due.len());
        let mut losers = Losers::default();
        for d in &self.due {
            let settled = settle(d.kind, d.reserve, &d.best);
            let (reason, min) = loss_terms(d.kind, d.reserve, d.increment, &settled);
            let winner = settled.winner.map(|w| w.bidder_id.get());
            losers.push(d.id, winner, reason, Some(min));
            outcomes.push((d.id, settled));
        }
        let hooks = &self.hooks;
        let mut col_id = Vec::with_capacity(outcomes.len());
        let mut col_winner = Vec::with_capacity(outcomes.len());
        let mut col_bid = Vec::with_capacity(outcomes.len());
        let mut col_price = Vec::with_capacity(outcomes.len());
        let mut col_notice = Vec::with_capacity(outcomes.len());
        let (mut n_auction, mut n_bidder, mut n_url) = (Vec::new(), Vec::new(), Vec::new());
        for (id, o) in &outcomes {
            let w = o.winner;
            let url = w.and_then(|w| hooks.get(&w.bidder_id.get()).map(|(url, _)| url));
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
        .fetch_all(&mut *self.tx)
        .await?;
        let mut wins: HashMap<i64, (i64, String)> = HashMap::new();
        if !n_auction.is_empty() {
            // The notices' bodies are rendered at delivery from the settled auctions.
            wins = sqlx::query!(
                r#"INSERT INTO win_notices (auction_id, bidder_id, url, next_attempt_at)
                   SELECT a, b, u, now() + make_interval(secs => $4)
                   FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[]) AS n(a, b, u)
                   RETURNING id, notice_id::TEXT AS "notice_id!", auction_id"#,
                &n_auction,
                &n_bidder,
                &n_url,
                f64::from(lease_secs),
            )
            .fetch_all(&mut *self.tx)
            .await?
            .into_iter()
            .map(|r| (r.auction_id, (r.id, r.notice_id)))
            .collect();
        }
        let losses = losers.queue(&mut self.tx, lease_secs).await?;
        self.tx.commit().await?;
        let closed: HashMap<i64, Auction> = closed
            .into_iter()
            .map(|row| Ok((row.id, Auction::try_from(row)?)))
            .collect::<Result<_, StorageError>>()?;
        let mut notices = Vec::with_capacity(wins.len() + losses.len());
        for loss in losses {
            let a = closed.get(&loss.auction_id).ok_or_else(|| {
                StorageError::Corrupt("a loss notice for an auction not settled".into())
            })?;
            let result = a.result.as_ref().ok_or_else(|| {
                StorageError::Corrupt("a settled auction without a result".into())
            })?;
            notices.push(loss.due(
                result.winner.map(|w| w.clearing_price),
                &a.currency,
                result.closed_at,
            )?);
        }
        let mut auctions = Vec::with_capacity(closed.len());
        for (id, auction) in closed {
            let win = wins.remove(&id);
            if let Some((row_id, notice_id)) = &win {
                notices.push(win_notice(*row_id, notice_id, &auction, &self.hooks)?);
            }
            auctions.push(SettledAuction {
                notice_queued: win.is_some(),
                auction,
            });
        }
        auctions.sort_by_key(|s| s.auction.ends_at);
        Ok(Settlement { auctions, notices })
    }
}

/// The win notice just queued for `auction` (row `id`), as the sender takes it.
fn win_notice(
    id: i64,
    notice_id: &str,
    auction: &Auction,
    hooks: &HashMap<i64, (String, String)>,
) -> Result<DueNotice, StorageError> {
    let corrupt =
        || StorageError::Corrupt(format!("win notice {id} for an auction without a winner"));
    let result = auction.result.as_ref().ok_or_else(corrupt)?;
    let winner = result.winner.ok_or_else(corrupt)?;
    let (url, secret) = hooks.get(&winner.bidder_id.get()).ok_or_else(corrupt)?;
    Ok(DueNotice {
        id,
        outbox: Outbox::Wins,
        notice: gavel_domain::Notice::Won(gavel_domain::WinNotice {
            notice_id: notice_id.to_string(),
            auction_id: auction.id,
            bid_id: winner.bid_id,
            bidder_id: winner.bidder_id,
            clearing_price: winner.clearing_price,
            currency: auction.currency.clone(),
            closed_at: result.closed_at,
        }),
        url: url.clone(),
        attempts: 0,
        webhook_secret: secret.clone(),
    })
}
