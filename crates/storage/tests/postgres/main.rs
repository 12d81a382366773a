//! Storage against a real PostgreSQL: the bid transaction, group commit, and rows becoming
//! domain values.

mod common;

mod batches;
mod bids;
mod creations;
mod notices;
mod records;
