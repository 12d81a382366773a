//! Sealed-bid confidentiality, idempotency, rate limits, load shedding, metrics.

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod idempotency;
mod limits;
mod metrics_endpoint;
mod sealed;
