//! Every route and error code of the contract, through a real server; colliding bids
//! through two instances.

#[path = "../common/mod.rs"]
mod common;

mod auctions;
mod auth;
mod bidder_keys;
mod bidders;
mod bids;
mod concurrency;
mod deadlines;
mod errors;
mod freshness;
mod fuzz;
mod health;
mod hostile;
mod layers;
mod openapi;
