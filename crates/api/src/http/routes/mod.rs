//! Route handlers: parse, call storage or cache, map to views. Nothing else.

pub mod auctions;
pub mod bidders;
pub mod bids;
pub mod events;
pub mod health;
pub mod openapi;
