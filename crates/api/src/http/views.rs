//! Response bodies: domain values as the contract spells them, and who may see what in
//! them (by the domain's visibility rules).

use chrono::{DateTime, Utc};
use gavel_domain::time::rfc3339_millis;
use gavel_domain::visibility::{is_winning, sees_highest};
use gavel_domain::{
    Auction, AuctionId, AuctionKind, AuctionStatus, Bid, BidId, Bidder, BidderId, HighestBid,
    Money, NoticeState, Viewer,
};
use gavel_service::{CacheHealth, CreatedBidder};
use secrecy::ExposeSecret;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use crate::http::pagination::Paged;

/// RFC 3339 in UTC with milliseconds, as the contract writes times.
fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339_millis(t))
}

pub(crate) fn ts_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts(t, s),
        None => s.serialize_none(),
    }
}

/// A bidder (never its key or secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Bidder)]
pub struct BidderView {
    /// The bidder's id, positive.
    pub id: BidderId,
    /// Its display name, 1..=200 characters.
    pub name: String,
    /// Where win and loss notices go, or null.
    #[schema(required = true)]
    pub webhook_url: Option<String>,
    /// `active`, or `disabled` (its keys refused with `403 bidder_disabled`).
    pub status: gavel_domain::BidderStatus,
    /// Its own bids-a-second limit per instance; null: the server's default.
    #[schema(required = true, minimum = 1, maximum = 1000000)]
    pub rate_limit: Option<u32>,
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
            status: b.status,
            rate_limit: b.rate_limit,
            created_at: b.created_at,
        }
    }
}

/// One of a bidder's keys, as listed (never the key itself).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BidderKey)]
pub struct KeyView {
    /// Its id (for revoking it).
    pub key_id: i64,
    /// Its first 8 characters (`gvl_****` for keys made before keys were listed).
    pub prefix: String,
    /// When it was made.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    /// When it stops working, or null.
    #[schema(required = true)]
    #[serde(serialize_with = "ts_opt")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<gavel_domain::BidderKey> for KeyView {
    fn from(k: gavel_domain::BidderKey) -> Self {
        Self {
            key_id: k.key_id,
            prefix: k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
        }
    }
}

/// One bidder with its live keys.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BidderWithKeys)]
pub struct BidderDetailView {
    /// The bidder.
    #[serde(flatten)]
    pub bidder: BidderView,
    /// Its keys not revoked, oldest first.
    pub keys: Vec<KeyView>,
}

/// A new key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedKey)]
pub struct CreatedKeyView {
    /// Its id.
    pub key_id: i64,
    /// The key; only its hash is kept.
    pub api_key: String,
    /// When it was made.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
}

/// A newly created bidder, with its secrets shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedBidder)]
pub struct CreatedBidderView {
    /// The bidder.
    #[serde(flatten)]
    pub bidder: BidderView,
    /// Bearer key for bidding (shown only here).
    pub api_key: String,
    /// Secret that signs win notices (shown only here).
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuctionResult)]
pub struct ResultView {
    /// Winner, or null when nobody won.
    #[schema(required = true)]
    pub winner_bidder_id: Option<BidderId>,
    /// Winning bid, or null when nobody won.
    #[schema(required = true)]
    pub winning_bid_id: Option<BidId>,
    /// Price paid, or null when nobody won.
    #[schema(required = true)]
    pub clearing_price: Option<Money>,
    /// Settlement time.
    #[serde(serialize_with = "ts")]
    pub closed_at: DateTime<Utc>,
    /// Win-notice state.
    pub notice: NoticeState,
}

/// An auction as clients see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Auction)]
pub struct AuctionView {
    /// The auction's id, positive.
    pub id: AuctionId,
    /// What admins call it, 1..=200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// `english` (open, ascending) or a sealed kind.
    pub kind: AuctionKind,
    /// ISO 4217 code, three upper-case letters.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Reserve price.
    pub reserve_price: Money,
    /// English increment.
    pub min_increment: Money,
    /// Anti-sniping window, in seconds.
    #[schema(minimum = 0, maximum = 3600)]
    pub extend_secs: i32,
    /// When bids start being accepted.
    #[serde(serialize_with = "ts")]
    pub starts_at: DateTime<Utc>,
    /// When bidding ends (moved by anti-sniping extensions).
    #[serde(serialize_with = "ts")]
    pub ends_at: DateTime<Utc>,
    /// Status by the database clock.
    pub status: AuctionStatus,
    /// Accepted bids.
    #[schema(minimum = 0)]
    pub bid_count: i64,
    /// Highest bid: null when there is none, and on sealed kinds null until closed for
    /// every key but the admin's.
    #[schema(required = true)]
    pub highest_bid: Option<HighestBid>,
    /// Outcome: null until closed.
    #[schema(required = true)]
    pub result: Option<ResultView>,
    /// Creation time.
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    /// Cancellation time (only present once cancelled).
    #[serde(serialize_with = "ts_opt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = DateTime<Utc>)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Bid)]
pub struct BidView {
    /// The bid's id; within an auction, later bids have larger ids.
    pub id: BidId,
    /// The auction bid on.
    pub auction_id: AuctionId,
    /// Who bid.
    pub bidder_id: BidderId,
    /// The amount bid, a decimal string.
    pub amount: Money,
    /// English: whether it is the highest; sealed: null until closed; once closed:
    /// whether it is the winning bid.
    #[schema(required = true)]
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

/// `GET /health`: the process serves.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Health)]
pub struct HealthView {
    /// Always `ok`.
    pub status: Live,
}

/// The only liveness answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Live {
    /// The process serves.
    Ok,
}

/// `GET /ready`: whether this instance can serve, and each dependency as checked by the
/// request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ready)]
pub struct ReadyView {
    /// `ready` when PostgreSQL answers, else `unavailable`.
    pub status: Readiness,
    /// Each dependency's state.
    pub dependencies: Dependencies,
}

/// Whether the instance can serve.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Readiness {
    /// PostgreSQL answers.
    Ready,
    /// PostgreSQL does not answer.
    Unavailable,
}

/// The dependencies `/ready` checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dependencies {
    /// PostgreSQL.
    pub postgres: PostgresState,
    /// Redis as checked now: `ok`, `degraded` (down; the service works without it) or `disabled`.
    pub redis: RedisState,
}

/// PostgreSQL as `/ready` found it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostgresState {
    /// It answered.
    Ok,
    /// It did not answer within 2 s.
    Down,
}

/// Redis as `/ready` found it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RedisState {
    /// It answered.
    Ok,
    /// Configured but not answering: bids are decided by PostgreSQL alone.
    Degraded,
    /// No `REDIS_URL`.
    Disabled,
}

impl From<CacheHealth> for RedisState {
    fn from(h: CacheHealth) -> Self {
        match h {
            CacheHealth::Ok => RedisState::Ok,
            CacheHealth::Degraded => RedisState::Degraded,
            CacheHealth::Disabled => RedisState::Disabled,
        }
    }
}

/// A page of auctions (named, so the document refers to one schema).
pub type AuctionPage = Paged<AuctionView>;
/// A page of bids.
pub type BidPage = Paged<BidView>;
/// A page of bidders.
pub type BidderPage = Paged<BidderView>;
