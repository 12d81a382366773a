//! After the end: auctions settled by their rules exactly once, win notices signed,
//! retried and marked, and losers told.

#[path = "../common/mod.rs"]
mod common;

mod losses;
mod notices;
mod rules;
