//! Rows as PostgreSQL returns them, and the one fallible place where each becomes a
//! domain value: an unknown kind or an amount out of range is an error, never a default.

use chrono::{DateTime, Utc};
use gavel_domain::{
    Auction, AuctionId, AuctionKind, AuctionResult, Bid, BidId, BidderId, HighestBid, Money,
    NoticeState, Winner,
};
use rust_decimal::Decimal;

use crate::StorageError;

/// The `auctions` columns this release reads, by name, with the database clock at read time.
#[derive(Debug)]
pub(crate) struct AuctionRow {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub currency: String,
    pub reserve_price: Decimal,
    pub min_increment: Decimal,
    pub extend_secs: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub highest_bid_id: Option<i64>,
    pub highest_bidder_id: Option<i64>,
    pub highest_amount: Option<Decimal>,
    pub bid_count: i64,
    pub closed_at: Option<DateTime<Utc>>,
    pub winner_bidder_id: Option<i64>,
    pub winning_bid_id: Option<i64>,
    pub clearing_price: Option<Decimal>,
    pub notice: String,
    pub created_at: DateTime<Utc>,
    pub db_now: DateTime<Utc>,
}

/// A `bids` row.
#[derive(Debug)]
pub(crate) struct BidRow {
    pub id: i64,
    pub auction_id: i64,
    pub bidder_id: i64,
    pub amount: Decimal,
    pub created_at: DateTime<Utc>,
}

/// The public columns of a `bidders` row.
#[derive(Debug)]
pub(crate) struct BidderRow {
    pub id: i64,
    pub name: String,
    pub webhook_url: Option<String>,
    pub status: String,
    pub rate_limit: Option<i32>,
    pub created_at: DateTime<Utc>,
}

fn corrupt(what: &str, value: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {value}"))
}

pub(crate) fn money(what: &str, d: Decimal) -> Result<Money, StorageError> {
    Money::from_decimal(d).map_err(|e| corrupt(what, e))
}

pub(crate) fn auction_id(id: i64) -> Result<AuctionId, StorageError> {
    AuctionId::new(id).ok_or_else(|| corrupt("auction id", id))
}

pub(crate) fn bidder_id(id: i64) -> Result<BidderId, StorageError> {
    BidderId::new(id).ok_or_else(|| corrupt("bidder id", id))
}

pub(crate) fn bid_id(id: i64) -> Result<BidId, StorageError> {
    BidId::new(id).ok_or_else(|| corrupt("bid id", id))
}

pub(crate) fn kind(s: &str) -> Result<AuctionKind, StorageError> {
    AuctionKind::parse(s).ok_or_else(|| corrupt("auction kind", s))
}

impl TryFrom<AuctionRow> for Auction {
    type Error = StorageError;

    fn try_from(r: AuctionRow) -> Result<Self, StorageError> {
        let highest = match (r.highest_bid_id, r.highest_bidder_id, r.highest_amount) {
            (Some(bid), Some(bidder), Some(amount)) => Some(HighestBid {
                bid_id: bid_id(bid)?,
                bidder_id: bidder_id(bidder)?,
                amount: money("highest amount", amount)?,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("auction highest bid", r.id)),
        };
        let result = match r.closed_at {
            None => None,
            Some(closed_at) => Some(AuctionResult {
                winner: match (r.winner_bidder_id, r.winning_bid_id, r.clearing_price) {
                    (Some(bidder), Some(bid), Some(price)) => Some(Winner {
                        bidder_id: bidder_id(bidder)?,
                        bid_id: bid_id(bid)?,
                        clearing_price: money("clearing price", price)?,
                    }),
                    (None, None, None) => None,
                    _ => return Err(corrupt("auction winner", r.id)),
                },
                closed_at,
                notice: NoticeState::parse(&r.notice)
                    .ok_or_else(|| corrupt("notice state", &r.notice))?,
            }),
        };
        Ok(Auction {
            id: auction_id(r.id)?,
            title: r.title,
            kind: kind(&r.kind)?,
            currency: r.currency,
            reserve_price: money("reserve price", r.reserve_price)?,
            min_increment: money("min increment", r.min_increment)?,
            extend_secs: r.extend_secs,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            cancelled_at: r.cancelled_at,
            highest,
            bid_count: r.bid_count,
            result,
            created_at: r.created_at,
            as_of: r.db_now,
        })
    }
}

impl TryFrom<BidRow> for Bid {
    type Error = StorageError;

    fn try_from(r: BidRow) -> Result<Self, StorageError> {
        Ok(Bid {
            id: bid_id(r.id)?,
            auction_id: auction_id(r.auction_id)?,
            bidder_id: bidder_id(r.bidder_id)?,
            amount: money("bid amount", r.amount)?,
            created_at: r.created_at,
        })
    }
}

/// Converts every row, failing on the first that does not convert.
pub(crate) fn all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StorageError>
where
    T: TryFrom<R, Error = StorageError>,
{
    rows.into_iter().map(T::try_from).collect()
}
