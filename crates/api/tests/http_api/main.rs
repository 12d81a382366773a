//! Every route and error code of the contract, through a real server.

#[path = "../common/mod.rs"]
mod common;

mod auctions;
mod auth;
mod bidders;
mod bids;
mod errors;
mod freshness;
mod fuzz;
mod health;
mod hostile;
mod layers;
mod openapi;
