//! Shared state handed to every handler.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use gavel_cache::Cache;
use gavel_storage::Storage;

use crate::events::EventHub;
use crate::keys::hash_token;
use crate::webhooks::WebhookSettings;

/// Most API-key hashes remembered in memory before the memo starts over.
const KEY_MEMO_CAPACITY: usize = 100_000;

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// PostgreSQL, the source of truth.
    pub storage: Storage,
    /// Redis fast path (possibly disabled).
    pub cache: Cache,
    /// SHA-256 of the admin token; the token itself is not kept.
    pub admin_token_hash: [u8; 32],
    /// Known API-key hashes → bidder ids, so a bid that the cache turns away needs no
    /// database round trip. Keys cannot be revoked yet, so entries never go stale; only
    /// keys found in the database are remembered, so junk tokens cannot fill it.
    pub key_memo: Arc<RwLock<HashMap<[u8; 32], i64>>>,
    /// Per-bidder request budget (per instance); `None` when `GAVEL_RATE_LIMIT` is 0.
    pub rate_limiter: Option<Arc<DefaultKeyedRateLimiter<i64>>>,
    /// `GAVEL_METRICS_TOKEN`, hashed; `/metrics` is open when `None`.
    pub metrics_token_hash: Option<[u8; 32]>,
    /// How win notices are delivered.
    pub webhooks: WebhookSettings,
    /// HTTP client for win notices (rustls).
    pub http_client: reqwest::Client,
    /// Auction events for open streams.
    pub events: Arc<EventHub>,
}

impl AppState {
    /// Builds the state.
    pub fn new(storage: Storage, cache: Cache, admin_token: &str) -> Self {
        Self {
            storage,
            cache,
            admin_token_hash: hash_token(admin_token),
            key_memo: Arc::new(RwLock::new(HashMap::new())),
            rate_limiter: None,
            metrics_token_hash: None,
            webhooks: WebhookSettings::default(),
            http_client: reqwest::Client::builder()
                .user_agent(concat!("gavel/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            events: Arc::new(EventHub::default()),
        }
    }

    /// Sets how win notices are delivered.
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> Self {
        self.webhooks = settings;
        self
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
    pub fn with_metrics_token(mut self, token: Option<&str>) -> Self {
        self.metrics_token_hash = token.map(hash_token);
        self
    }

    /// Spends one request of `bidder_id`'s budget, or says how many seconds to wait.
    pub fn check_rate(&self, bidder_id: i64) -> Result<(), u64> {
        let Some(limiter) = &self.rate_limiter else {
            return Ok(());
        };
        limiter.check_key(&bidder_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Periodic clean-up of in-memory state.
    pub fn housekeeping(&self) {
        if let Some(l) = &self.rate_limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// A remembered bidder id for an API-key hash.
    pub fn memo_get(&self, hash: &[u8; 32]) -> Option<i64> {
        self.key_memo.read().ok()?.get(hash).copied()
    }

    /// Remembers a bidder id for an API-key hash.
    pub fn memo_put(&self, hash: [u8; 32], bidder_id: i64) {
        if let Ok(mut m) = self.key_memo.write() {
            if m.len() >= KEY_MEMO_CAPACITY {
                m.clear();
            }
            m.insert(hash, bidder_id);
        }
    }
}

impl axum::extract::FromRef<AppState> for Storage {
    fn from_ref(state: &AppState) -> Storage {
        state.storage.clone()
    }
}
