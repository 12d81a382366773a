//! PostgreSQL stopped and started, or changing hands, under a running gavel; Redis killed
//! and restarted, or failed over by Sentinel.

#[path = "../common/mod.rs"]
mod common;

mod changing_hands;
mod postgres;
mod redis_cache;
mod redis_sentinel;
