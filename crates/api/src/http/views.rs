//! Response bodies, and who may see what in them.

use chrono::{DateTime, SecondsFormat, Utc};
use gavel_domain::money::format_amount;
use gavel_domain::AuctionStatus;
use gavel_storage::{AuctionRecord, BidRecord, BidderRecord};
use serde::{Serialize, Serializer};

use crate::auth::Caller;

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

fn amount<S: Serializer>(d: &rust_decimal::Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_amount(*d))
}

fn amount_opt<S: Serializer>(d: &Option<rust_decimal::Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => amount(d, s),
        None => s.serialize_none(),
    }
}

/// A bidder (never its key or secret).
#[derive(Debug, Serialize)]
pub struct BidderView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Creation time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl From<BidderRecord> for BidderView {
    fn from(b: BidderRecord) -> Self {
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

/// The auction's highest bid.
#[derive(Debug, Serialize)]
pub struct HighestBidView {
    /// Bid id.
    pub bid_id: i64,
    /// Bidder id.
    pub bidder_id: i64,
    /// Amount.
    #[serde(serialize_with = "amount")]
    pub amount: rust_decimal::Decimal,
}

/// The settled outcome.
#[derive(Debug, Serialize)]
pub struct ResultView {
    /// Winner, or null.
    pub winner_bidder_id: Option<i64>,
    /// Winning bid, or null.
    pub winning_bid_id: Option<i64>,
    /// Price paid, or null.
    #[serde(serialize_with = "amount_opt")]
    pub clearing_price: Option<rust_decimal::Decimal>,
    /// Settlement time.
    #[serde(serialize_with = "ts")]
    pub closed_at: DateTime<Utc>,
    /// Win-notice state.
    pub notice: String,
}

/// An auction as clients see it.
#[derive(Debug, Serialize)]
pub struct AuctionView {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Currency.
    pub currency: String,
    /// Reserve price.
    #[serde(serialize_with = "amount")]
    pub reserve_price: rust_decimal::Decimal,
    /// English increment.
    #[serde(serialize_with = "amount")]
    pub min_increment: rust_decimal::Decimal,
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
    /// Highest bid, hidden on sealed kinds until closed (but from admins).
    pub highest_bid: Option<HighestBidView>,
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
    /// The auction as `caller` may see it.
    pub fn for_caller(a: AuctionRecord, caller: Caller) -> Self {
        Self::build(a, caller.is_admin())
    }

    /// The auction as any bidder may see it (for event streams).
    pub fn public(a: AuctionRecord) -> Self {
        Self::build(a, false)
    }

    fn build(a: AuctionRecord, sees_sealed: bool) -> Self {
        let status = a.status();
        let sealed = a.kind().is_sealed();
        let may_see_highest = !sealed || sees_sealed || status == AuctionStatus::Closed;
        let highest_bid = match (a.highest_bid_id, a.highest_bidder_id, a.highest_amount) {
            (Some(bid_id), Some(bidder_id), Some(amount)) if may_see_highest => {
                Some(HighestBidView {
                    bid_id,
                    bidder_id,
                    amount,
                })
            }
            _ => None,
        };
        let result = a.closed_at.map(|closed_at| ResultView {
            winner_bidder_id: a.winner_bidder_id,
            winning_bid_id: a.winning_bid_id,
            clearing_price: a.clearing_price,
            closed_at,
            notice: a.notice.clone(),
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
    pub id: i64,
    /// Auction.
    pub auction_id: i64,
    /// Bidder.
    pub bidder_id: i64,
    /// Amount.
    #[serde(serialize_with = "amount")]
    pub amount: rust_decimal::Decimal,
    /// English: whether it is the highest; sealed: null until closed.
    pub is_winning: Option<bool>,
    /// Acceptance time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

impl BidView {
    /// A bid with `is_winning` already decided.
    pub fn new(b: BidRecord, is_winning: Option<bool>) -> Self {
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
    pub fn in_auction(b: BidRecord, auction: &AuctionRecord) -> Self {
        let is_winning = if auction.closed_at.is_some() {
            Some(auction.winning_bid_id == Some(b.id))
        } else if auction.kind().is_sealed() {
            None
        } else {
            Some(auction.highest_bid_id == Some(b.id))
        };
        Self::new(b, is_winning)
    }
}
