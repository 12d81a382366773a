//! The pure rules of gavel: money, auctions, bids, who sees what, and settlement.
//!
//! Nothing here does I/O; every clock reading is passed in, so the rules
//! are decided the same way on every instance and in every test.

pub mod auction;
pub mod bid;
pub mod bidder;
pub mod error;
pub mod events;
pub mod ids;
pub mod money;
pub mod notice;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod settlement;
pub mod time;
pub mod visibility;
pub mod webhook;

pub use auction::{
    Auction, AuctionKind, AuctionResult, AuctionState, AuctionStatus, HighestBid, NewAuction,
    NewAuctionInput, Winner,
};
pub use bid::{
    decide_bid, AcceptedBid, Bid, BidAmount, BidContext, BidOutcome, BidRejection, BidRequest,
    PlacedBid,
};
pub use bidder::{
    Bidder, BidderKey, BidderPatch, BidderPatchInput, BidderStatus, NewBidder, NewBidderInput,
};
pub use error::{DomainError, FieldError};
pub use events::AuctionEvent;
pub use ids::{AuctionId, BidId, BidderId, IdError};
pub use money::Money;
pub use notice::{LossNotice, LossReason, Notice, NoticeState, SentNotice, WinNotice};
pub use settlement::{settle, Settlement, SettlementBid};
pub use visibility::Viewer;
