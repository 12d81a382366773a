//! The state handed to every handler: the use cases, plus what only HTTP needs.

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

/// Everything handlers need, behind one `Arc`: axum clones the state twice a request (the
/// route's copy, then the `State` extractor's), and with an `Arc` per field each clone
/// moved four reference counts that both worker threads kept changing.
#[derive(Clone)]
pub struct AppState(Arc<AppStateParts>);

/// What [`AppState`] shares: built and configured first, then made one with `into()`.
pub struct AppStateParts {
    /// The use cases.
    pub services: Arc<Services>,
    /// Per-bidder request budget (per instance); `None` when `GAVEL_RATE_LIMIT` is 0.
    pub rate_limiter: Option<DefaultKeyedRateLimiter<BidderId>>,
    /// The budgets of bidders with a `rate_limit` of their own, with that limit (a new
    /// limit starts a fresh budget).
    own_limits: Mutex<OwnLimits>,
    /// `GAVEL_METRICS_TOKEN`, hashed; `/metrics` is open when `None`.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// The JSON of auctions read from memory, by copy.
    pub auction_bodies: AuctionBodies,
}

impl std::ops::Deref for AppState {
    type Target = AppStateParts;

    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

impl From<AppStateParts> for AppState {
    fn from(parts: AppStateParts) -> Self {
        AppState(Arc::new(parts))
    }
}

impl AppStateParts {
    /// The state around `services` (built and configured by the caller); made an
    /// [`AppState`] with `into()` once configured.
    pub fn new(services: Services) -> Self {
        AppStateParts {
            services: Arc::new(services),
            rate_limiter: None,
            own_limits: Mutex::default(),
            metrics_token_hash: None,
            auction_bodies: AuctionBodies::default(),
        }
    }

    /// Limits each bidder to `per_second` requests with bursts of `burst`; 0 turns it off.
    pub fn with_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
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
