//! The Lua fast path against a real Redis.

use std::time::{Duration, Instant};

use gavel_cache::{Cache, CacheHealth, FastCheck};
use gavel_domain::{AuctionId, Money};

fn m(s: &str) -> Money {
    s.parse().unwrap()
}

fn id(n: i64) -> AuctionId {
    AuctionId::new(n).unwrap()
}

fn cache() -> Cache {
    let url = std::env::var("REDIS_URL")
        .expect("REDIS_URL must be set: run the tests through scripts/test.sh");
    let prefix = format!(
        "gavel-cache-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    Cache::new(&url, &prefix, Duration::from_millis(500)).unwrap()
}

const FAR_FUTURE_MS: i64 = 4_102_444_800_000; // 2100-01-01
const NOW_MS: i64 = 1_795_000_000_000;

#[tokio::test]
async fn unknown_auctions_are_never_refused() {
    let c = cache();
    assert_eq!(c.check_bid(id(1), m("0.01"), NOW_MS).await.hopeless(), None);
}

#[tokio::test]
async fn bids_below_the_next_minimum_are_refused() {
    let c = cache();
    c.record_highest(id(7), m("10"), m("10.05"), FAR_FUTURE_MS)
        .await;
    let too_low = c
        .check_bid(id(7), m("10.0499"), NOW_MS)
        .await
        .hopeless()
        .unwrap();
    assert_eq!(too_low.min_amount, m("10.05"));
    assert_eq!(
        c.check_bid(id(7), m("10.05"), NOW_MS).await.hopeless(),
        None
    );
    assert_eq!(
        c.check_bid(id(7), m("99999999999999.9999"), NOW_MS)
            .await
            .hopeless(),
        None
    );
}

#[tokio::test]
async fn the_entry_only_moves_up() {
    let c = cache();
    c.record_highest(id(8), m("20"), m("21"), FAR_FUTURE_MS)
        .await;
    // A late writer with a lower committed amount must not lower the entry.
    c.record_highest(id(8), m("9.9999"), m("10.9999"), FAR_FUTURE_MS)
        .await;
    assert_eq!(
        c.check_bid(id(8), m("20.99"), NOW_MS)
            .await
            .hopeless()
            .unwrap()
            .min_amount,
        m("21")
    );
    c.record_highest(id(8), m("100"), m("101"), FAR_FUTURE_MS)
        .await;
    assert_eq!(
        c.check_bid(id(8), m("100.5"), NOW_MS)
            .await
            .hopeless()
            .unwrap()
            .min_amount,
        m("101")
    );
}

#[tokio::test]
async fn past_the_end_the_cache_steps_aside() {
    let c = cache();
    c.record_highest(id(9), m("5"), m("6"), NOW_MS).await;
    // At or after ends_at PostgreSQL must answer (auction_not_open), not the cache.
    assert_eq!(c.check_bid(id(9), m("1"), NOW_MS).await.hopeless(), None);
    assert!(c
        .check_bid(id(9), m("1"), NOW_MS - 1)
        .await
        .hopeless()
        .is_some());
}

#[tokio::test]
async fn forgotten_entries_refuse_nothing() {
    let c = cache();
    c.record_highest(id(10), m("5"), m("6"), FAR_FUTURE_MS)
        .await;
    c.forget(id(10)).await;
    assert_eq!(c.check_bid(id(10), m("1"), NOW_MS).await.hopeless(), None);
}

#[tokio::test]
async fn an_unreachable_redis_is_skipped_quickly_and_reported_degraded() {
    let c = Cache::new("redis://127.0.0.1:1", "x", Duration::from_millis(200)).unwrap();
    let started = Instant::now();
    assert_eq!(
        c.check_bid(id(1), m("1"), NOW_MS).await,
        FastCheck::Unavailable
    );
    assert_eq!(c.health(), CacheHealth::Degraded);
    // Once known down, calls are skipped without trying.
    for _ in 0..100 {
        assert_eq!(c.check_bid(id(1), m("1"), NOW_MS).await.hopeless(), None);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(c.probe().await, CacheHealth::Degraded);
}

#[tokio::test]
async fn disabled_cache_does_nothing() {
    let c = Cache::disabled();
    assert_eq!(c.health(), CacheHealth::Disabled);
    c.record_highest(id(1), m("5"), m("6"), FAR_FUTURE_MS).await;
    assert_eq!(
        c.check_bid(id(1), m("1"), NOW_MS).await,
        FastCheck::Disabled
    );
}

#[tokio::test]
async fn health_recovers_when_a_probe_succeeds() {
    let c = cache();
    assert_eq!(c.probe().await, CacheHealth::Ok);
}
