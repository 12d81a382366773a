//! The pure rules of gavel: money, auctions, bids and settlement.
//!
//! Nothing here does I/O; every clock reading is passed in, so the rules
//! are decided the same way on every instance and in every test.

pub mod auction;
pub mod bid;
pub mod error;
pub mod money;
pub mod notice;
pub mod settlement;

pub use auction::{AuctionKind, AuctionState, AuctionStatus, NewAuction, NewAuctionInput};
pub use bid::{decide_bid, AcceptedBid, BidContext, BidRejection};
pub use error::{DomainError, FieldError};
pub use money::Money;
pub use settlement::{settle, Settlement, SettlementBid};
