//! Response bodies: domain values as the contract spells them, and who may see what in
//! them (by the domain's visibility rules).

use chrono::{DateTime, SecondsFormat, Utc};
use gavel_domain::visibility::{is_winning, sees_highest};
use gavel_domain::{
    Auction, AuctionId, AuctionKind, AuctionStatus, Bid, BidId, Bidder, BidderId, HighestBid,
    Money, NoticeState, Viewer,
};
use gavel_service::CreatedBidder;
use secrecy::ExposeSecret;
use serde::{Serialize, Serializer};

/// RFC 3339 in UTC with milliseconds, as the contract writes times.
fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn ts_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts(t, s),
        None => s.serialize_none(),
    }
}

/// A bidder (never its key or secret).
#[derive(Debug, Serialize)]
pub struct BidderView {
    /// Id.
    pub id: BidderId,
    /// Name.
    pub name: String,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Creation time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<Bidder> for BidderView {
    fn from(b: Bidder) -> Self {
        Self {
            id: b.id,
            name: b.name,
            webhook_url: b.webhook_url,
            created_at: b.created_at,
        }
    }
}

/// A newly created bidder, with its secrets shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedBidderView {
    /// The bidder.
    #[serde(flatten)]
    pub bidder: BidderView,
    /// Bearer key for bidding.
    pub api_key: String,
    /// Secret that signs win notices.
    pub webhook_secret: String,
}

impl From<CreatedBidder> for CreatedBidderView {
    fn from(c: CreatedBidder) -> Self {
        Self {
            bidder: c.bidder.into(),
            api_key: c.api_key.expose_secret().to_string(),
            webhook_secret: c.webhook_secret.expose_secret().to_string(),
        }
    }
}

/// The settled outcome.
#[derive(Debug, Serialize)]
pub struct ResultView {
    /// Winner, or null.
    pub winner_bidder_id: Option<BidderId>,
    /// Winning bid, or null.
    pub winning_bid_id: Option<BidId>,
    /// Price paid, or null.
    pub clearing_price: Option<Money>,
    /// Settlement time.
    #[serde(serialize_with = "ts")]
    pub closed_at: DateTime<Utc>,
    /// Win-notice state.
    pub notice: NoticeState,
}

/// An auction as clients see it.
#[derive(Debug, Serialize)]
pub struct AuctionView {
    /// Id.
    pub id: AuctionId,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: AuctionKind,
    /// Currency.
    pub currency: String,
    /// Reserve price.
    pub reserve_price: Money,
    /// English increment.
    pub min_increment: Money,
    /// Anti-sniping window.
    pub extend_secs: i32,
    /// Start.
    #[serde(serialize_with = "ts")]
    pub starts_at: DateTime<Utc>,
    /// End.
    #[serde(serialize_with = "ts")]
    pub ends_at: DateTime<Utc>,
    /// Status by the database clock.
    pub status: AuctionStatus,
    /// Accepted bids.
    pub bid_count: i64,
    /// Highest bid, where the viewer may see it.
    pub highest_bid: Option<HighestBid>,
    /// Outcome once closed.
    pub result: Option<ResultView>,
    /// Creation time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    /// Cancellation time (only present once cancelled).
    #[serde(serialize_with = "ts_opt", skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl AuctionView {
    /// The auction as `viewer` may see it.
    pub fn new(a: Auction, viewer: Viewer) -> Self {
        let status = a.status();
        let highest_bid = a.highest.filter(|_| sees_highest(viewer, a.kind, status));
        let result = a.result.map(|r| ResultView {
            winner_bidder_id: r.winner.map(|w| w.bidder_id),
            winning_bid_id: r.winner.map(|w| w.bid_id),
            clearing_price: r.winner.map(|w| w.clearing_price),
            closed_at: r.closed_at,
            notice: r.notice,
        });
        Self {
            id: a.id,
            title: a.title,
            kind: a.kind,
            currency: a.currency,
            reserve_price: a.reserve_price,
            min_increment: a.min_increment,
            extend_secs: a.extend_secs,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            status,
            bid_count: a.bid_count,
            highest_bid,
            result,
            created_at: a.created_at,
            cancelled_at: a.cancelled_at,
        }
    }
}

/// A bid.
#[derive(Debug, Serialize)]
pub struct BidView {
    /// Id.
    pub id: BidId,
    /// Auction.
    pub auction_id: AuctionId,
    /// Bidder.
    pub bidder_id: BidderId,
    /// Amount.
    pub amount: Money,
    /// English: whether it is the highest; sealed: null until closed.
    pub is_winning: Option<bool>,
    /// Acceptance time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl BidView {
    /// A bid with `is_winning` already decided.
    pub fn new(b: Bid, is_winning: Option<bool>) -> Self {
        Self {
            id: b.id,
            auction_id: b.auction_id,
            bidder_id: b.bidder_id,
            amount: b.amount,
            is_winning,
            created_at: b.created_at,
        }
    }

    /// A bid of `auction` as listed: `is_winning` from the auction's standing.
    pub fn in_auction(b: Bid, auction: &Auction) -> Self {
        let winning = is_winning(b.id, auction);
        Self::new(b, winning)
    }
}
