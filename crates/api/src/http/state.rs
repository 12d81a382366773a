//! Shared state handed to every handler: the use cases, plus what only HTTP needs.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use gavel_domain::BidderId;
use gavel_service::auth::hash_token;
use gavel_service::Services;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};

use crate::http::auction_bodies::AuctionBodies;

/// Bidders with a rate limit of their own: the limit, and the budget kept at it.
type OwnLimits = HashMap<BidderId, (u32, Arc<DefaultDirectRateLimiter>)>;

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub services: Arc<Services>,
    /// Per-bidder request budget (per instance); `None` when `GAVEL_RATE_LIMIT` is 0.
    pub rate_limiter: Option<Arc<DefaultKeyedRateLimiter<BidderId>>>,
    /// The budgets of bidders with a `rate_limit` of their own, with that limit (a new
    /// limit starts a fresh budget).
    own_limits: Arc<Mutex<OwnLimits>>,
    /// `GAVEL_METRICS_TOKEN`, hashed; `/metrics` is open when `None`.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// The JSON of auctions read from memory, by copy.
    pub auction_bodies: Arc<AuctionBodies>,
}

impl AppState {
    /// The state around `services` (built and configured by the caller).
    pub fn new(services: Services) -> Self {
        Self {
            services: Arc::new(services),
            rate_limiter: None,
            own_limits: Arc::default(),
            metrics_token_hash: None,
            auction_bodies: Arc::default(),
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

    /// Spends one request of `bidder`'s budget, or says how many seconds to wait: its own
    /// `rate_limit` when it has one, else the server's default.
    pub fn check_rate(&self, bidder: BidderId, own: Option<u32>) -> Result<(), u64> {
        let wait = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        };
        if let Some(rate) = own.and_then(NonZeroU32::new) {
            return self.own_limiter(bidder, rate).check().map_err(wait);
        }
        let Some(limiter) = &self.rate_limiter else {
            return Ok(());
        };
        limiter.check_key(&bidder).map_err(wait)
    }

    /// `bidder`'s own budget at `rate` a second (bursts of a tenth of it, as the default).
    fn own_limiter(&self, bidder: BidderId, rate: NonZeroU32) -> Arc<DefaultDirectRateLimiter> {
        let mut own = self.own_limits.lock().unwrap_or_else(|e| e.into_inner());
        match own.get(&bidder) {
            Some((r, limiter)) if *r == rate.get() => limiter.clone(),
            _ => {
                let burst = NonZeroU32::new(rate.get() / 10).unwrap_or(NonZeroU32::MIN);
                let limiter = Arc::new(RateLimiter::direct(
                    Quota::per_second(rate).allow_burst(burst),
                ));
                own.insert(bidder, (rate.get(), limiter.clone()));
                limiter
            }
        }
    }

    /// Periodic clean-up of in-memory limits.
    pub fn housekeeping(&self) {
        if let Some(l) = &self.rate_limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}
