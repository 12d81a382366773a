//! Shared state handed to every handler: the use cases, plus what only HTTP needs.

use std::num::NonZeroU32;
use std::sync::Arc;

use gavel_domain::BidderId;
use gavel_service::auth::hash_token;
use gavel_service::Services;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Arc<Services>,
    /// Per-bidder request budget (per instance); `None` when `GAVEL_RATE_LIMIT` is 0.
    pub rate_limiter: Option<Arc<DefaultKeyedRateLimiter<BidderId>>>,
    /// `GAVEL_METRICS_TOKEN`, hashed; `/metrics` is open when `None`.
    pub metrics_token_hash: Option<[u8; 32]>,
}

impl AppState {
    /// The state around `services` (built and configured by the caller).
    pub fn new(services: Services) -> Self {
        Self {
            services: Arc::new(services),
            rate_limiter: None,
            metrics_token_hash: None,
        }
    }

    /// Limits each bidder to `per_second` requests with bursts of `burst`; 0 turns it off.
    pub fn with_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        self
    }

    /// Requires `token` as the bearer of `/metrics`.
    pub fn with_metrics_token(mut self, token: Option<&SecretString>) -> Self {
        self.metrics_token_hash = token.map(|t| hash_token(t.expose_secret()));
        self
    }

    /// Spends one request of `bidder`'s budget, or says how many seconds to wait.
    pub fn check_rate(&self, bidder: BidderId) -> Result<(), u64> {
        let Some(limiter) = &self.rate_limiter else {
            return Ok(());
        };
        limiter.check_key(&bidder).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Periodic clean-up of in-memory limits.
    pub fn housekeeping(&self) {
        if let Some(l) = &self.rate_limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}
