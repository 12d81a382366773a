//! The Redis fast path.
//!
//! Redis holds, per english auction, the highest committed amount and the least
//! amount the next bid needs. A bid below that cannot win, so it is turned away
//! without touching PostgreSQL. The cached value is only ever raised, after a
//! commit, so it never claims more than the database has: a missing, flushed or
//! stale entry only lets more bids through to PostgreSQL, which decides alone.
//! With Redis down every call here is skipped, and answers stay right.

mod connect;
mod error;
mod pubsub;
mod scripts;
mod sortable;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gavel_domain::{AuctionId, Money};

pub use connect::RedisTarget;
pub use error::CacheError;

/// How long an auction's entry lives after its last raise.
const ENTRY_TTL_SECS: u64 = 24 * 3600;

/// What `/ready` reports for Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheHealth {
    /// Redis answers.
    Ok,
    /// Redis is configured but not answering; the service works without it.
    Degraded,
    /// No `REDIS_URL` was given.
    Disabled,
}

impl CacheHealth {
    /// The word used in `/ready`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CacheHealth::Ok => "ok",
            CacheHealth::Degraded => "degraded",
            CacheHealth::Disabled => "disabled",
        }
    }
}

/// Handle to the cache; cheap to clone. Built disabled when there is no Redis.
#[derive(Clone)]
pub struct Cache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    /// Connections to Redis, direct or through Sentinel.
    pools: connect::Pools,
    /// Key namespace, so several deployments (or test databases) can share one Redis.
    prefix: String,
    /// Upper bound on any one Redis call; a slow Redis must not slow bids down.
    op_timeout: Duration,
    /// Last known state; while false, calls are skipped until a probe succeeds.
    healthy: AtomicBool,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

/// A committed english bid, for raising the auction's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HighestRaise {
    /// The auction.
    pub auction_id: AuctionId,
    /// The committed amount.
    pub amount: Money,
    /// The least amount the next bid needs.
    pub next_min: Money,
    /// The auction's end, in Unix milliseconds (past it the entry refuses nothing).
    pub ends_at_ms: i64,
}

/// What the fast path says of a bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FastCheck {
    /// Below what the auction needs: refuse it.
    Hopeless(TooLow),
    /// No entry, the bid may win, or the auction may be over: PostgreSQL decides.
    CannotTell,
    /// Redis is down or did not answer in time: PostgreSQL decides.
    Unavailable,
    /// No Redis is configured: PostgreSQL decides.
    Disabled,
}

impl FastCheck {
    /// The refusal, when the bid is hopeless.
    pub fn hopeless(self) -> Option<TooLow> {
        match self {
            FastCheck::Hopeless(t) => Some(t),
            _ => None,
        }
    }
}

/// A hopeless bid: the cache knows the auction needs at least this much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLow {
    /// Least amount the next bid needs, as far as the cache knows (never above the truth).
    pub min_amount: Money,
}

impl Cache {
    /// A cache that does nothing (no `REDIS_URL`).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Builds the pool for one Redis URL; no connection is made until first use.
    pub fn new(url: &str, prefix: &str, op_timeout: Duration) -> Result<Self, CacheError> {
        Self::connect(&RedisTarget::Direct(url.to_string()), prefix, op_timeout)
    }

    /// Builds the pool for `target`; no connection is made until first use.
    pub fn connect(
        target: &RedisTarget,
        prefix: &str,
        op_timeout: Duration,
    ) -> Result<Self, CacheError> {
        Ok(Self {
            inner: Some(Arc::new(Inner {
                pools: connect::Pools::new(target, op_timeout)?,
                prefix: prefix.to_string(),
                op_timeout,
                // Assume the best: the first failed call or probe corrects it.
                healthy: AtomicBool::new(true),
            })),
        })
    }

    /// Current health, as last observed.
    pub fn health(&self) -> CacheHealth {
        match &self.inner {
            None => CacheHealth::Disabled,
            Some(i) if i.healthy.load(Ordering::Relaxed) => CacheHealth::Ok,
            Some(_) => CacheHealth::Degraded,
        }
    }

    /// Pings Redis and records the outcome; the app calls this every second or so,
    /// which is how a lost Redis is noticed to be back.
    pub async fn probe(&self) -> CacheHealth {
        if let Some(inner) = &self.inner {
            let ok = inner
                .run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
                .await
                .is_ok();
            let was = inner.healthy.swap(ok, Ordering::Relaxed);
            if was != ok {
                if ok {
                    tracing::info!("redis is reachable again");
                } else {
                    tracing::warn!("redis is unreachable; bids go to PostgreSQL alone");
                }
            }
        }
        self.health()
    }

    /// Asks whether a bid of `amount` on english auction `auction_id` is hopeless.
    ///
    /// Anything but [`FastCheck::Hopeless`] means the bid must go to PostgreSQL.
    pub async fn check_bid(&self, auction_id: AuctionId, amount: Money, now_ms: i64) -> FastCheck {
        if self.inner.is_none() {
            return FastCheck::Disabled;
        }
        let Some(inner) = self.usable() else {
            return FastCheck::Unavailable;
        };
        let key = inner.key(auction_id);
        let probe = sortable::to_key(amount);
        let found: Result<Option<String>, _> = inner
            .run(|mut c| async move {
                scripts::check()
                    .key(key)
                    .arg(probe)
                    .arg(now_ms)
                    .invoke_async(&mut c)
                    .await
            })
            .await;
        match found {
            Err(_) => FastCheck::Unavailable,
            Ok(found) => match found.as_deref().and_then(sortable::from_key) {
                Some(min_amount) => FastCheck::Hopeless(TooLow { min_amount }),
                None => FastCheck::CannotTell,
            },
        }
    }

    /// Records a committed english bid: raises the entry only if `amount` is above it.
    pub async fn record_highest(
        &self,
        auction_id: AuctionId,
        amount: Money,
        next_min: Money,
        ends_at_ms: i64,
    ) {
        self.record_highest_many(&[HighestRaise {
            auction_id,
            amount,
            next_min,
            ends_at_ms,
        }])
        .await;
    }

    /// Records several committed english bids in one round trip (see [`Cache::record_highest`]).
    pub async fn record_highest_many(&self, raises: &[HighestRaise]) {
        let Some(inner) = self.usable() else { return };
        if raises.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for r in raises {
            // EVAL, not EVALSHA: a pipeline cannot recover from NOSCRIPT one command at a
            // time, and Redis caches the compiled script by its text's hash anyway.
            pipe.cmd("EVAL")
                .arg(scripts::RAISE)
                .arg(1)
                .arg(inner.key(r.auction_id))
                .arg(sortable::to_key(r.amount))
                .arg(sortable::to_key(r.next_min))
                .arg(r.ends_at_ms)
                .arg(ENTRY_TTL_SECS)
                .ignore();
        }
        let _ = inner
            .run(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await;
    }

    /// Drops several auctions' entries in one round trip (when they are settled).
    pub async fn forget_many(&self, auction_ids: &[AuctionId]) {
        let Some(inner) = self.usable() else { return };
        if auction_ids.is_empty() {
            return;
        }
        let mut cmd = redis::cmd("DEL");
        for id in auction_ids {
            cmd.arg(inner.key(*id));
        }
        let _ = inner
            .run(|mut c| async move { cmd.query_async::<i64>(&mut c).await })
            .await;
    }

    /// Drops an auction's entry (when it is cancelled or settled).
    pub async fn forget(&self, auction_id: AuctionId) {
        let Some(inner) = self.usable() else { return };
        let key = inner.key(auction_id);
        let _ = inner
            .run(|mut c| async move { redis::cmd("DEL").arg(key).query_async::<i64>(&mut c).await })
            .await;
    }

    fn usable(&self) -> Option<&Inner> {
        let inner = self.inner.as_deref()?;
        inner.healthy.load(Ordering::Relaxed).then_some(inner)
    }
}

impl Inner {
    fn key(&self, auction_id: AuctionId) -> String {
        format!("{}:auction:{auction_id}", self.prefix)
    }

    fn events_channel(&self) -> String {
        format!("{}:events", self.prefix)
    }

    /// Runs one Redis operation within the time bound; any failure marks Redis unhealthy.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(redis::aio::MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let result = match tokio::time::timeout(self.op_timeout, self.pools.run(op)).await {
            Ok(r) => r,
            Err(_) => Err(CacheError::Timeout),
        };
        if let Err(e) = &result {
            if self.healthy.swap(false, Ordering::Relaxed) {
                tracing::warn!(error = %e, "redis call failed; bids go to PostgreSQL alone");
            }
        }
        result
    }
}
