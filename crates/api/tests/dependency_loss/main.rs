//! PostgreSQL stopped and started, or changing hands, under a running gavel; Redis killed
//! and restarted, or failed over by Sentinel.

#[path = "../common/mod.rs"]
mod common;

mod changing_hands;
mod postgres;
mod redis_cache;
mod redis_sentinel;

use std::time::{Duration, Instant};

async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
