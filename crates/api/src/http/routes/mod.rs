//! Route handlers: parse, call one use case, render a view. Nothing else.

pub mod auctions;
pub mod bidders;
pub mod bids;
pub mod console;
pub mod events;
pub mod health;
pub mod notices;
pub mod openapi;
