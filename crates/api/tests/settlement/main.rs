//! After the end: auctions settled by their rules exactly once, and win notices signed,
//! retried and marked.

#[path = "../common/mod.rs"]
mod common;

mod notices;
mod rules;
