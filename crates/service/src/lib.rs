//! The use cases of gavel, free of HTTP: each public method of [`Services`] is one thing a
//! client, an admin or a background worker asks for (place a bid, create an auction,
//! settle what is due, deliver win notices). Handlers parse, call one of these, render.

pub mod auctions;
pub mod auth;
pub mod bidders;
pub mod bidding;
pub mod bids;
pub mod board;
pub mod error;
pub mod events;
pub mod notices;
pub mod raises;
pub mod settlement;
pub mod streams;
pub mod workers;

use std::sync::Arc;

use std::time::Duration;

use gavel_cache::Cache;
use gavel_storage::Storage;
use secrecy::SecretString;

pub use auctions::AuctionRead;
pub use auth::{Authenticator, Caller, Identity};
pub use bidders::CreatedBidder;
pub use bidding::BidAnswer;
pub use board::CopyId;
pub use error::ServiceError;
pub use events::EventHub;
pub use gavel_cache::CacheHealth;
pub use gavel_storage::PoolStats;
pub use notices::WebhookSettings;
pub use streams::StreamSettings;

/// What the services are built with, checked before (settings are fixed once built).
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    /// How win notices are delivered.
    pub webhooks: WebhookSettings,
    /// How many event streams may be open.
    pub streams: StreamSettings,
}

/// Everything the use cases need; shared by handlers and workers behind an `Arc`. Its
/// parts are private: callers go through its methods, the use cases.
pub struct Services {
    /// PostgreSQL, the source of truth.
    storage: Storage,
    /// Redis fast path (possibly disabled).
    cache: Cache,
    /// What this instance knows of auctions in memory (reads, floors).
    board: board::Board,
    /// Fast-path raises waiting to be sent to Redis.
    raises: raises::Raises,
    /// Open event streams, counted against their limits.
    streams: Arc<streams::StreamLimits>,
    /// Wakes the closer before its nap ends.
    closer: tokio::sync::Notify,
    /// When the closer looks next (Unix milliseconds; 0 before its first nap, so that
    /// nothing wakes it then): an auction ending sooner wakes it.
    closer_wakes_at: std::sync::atomic::AtomicI64,
    /// Slots for settlement batches finishing ([`settlement::FINISHING`]).
    finishing: Arc<tokio::sync::Semaphore>,
    /// Wakes the notice sender when settlement has queued notices.
    notices_queued: tokio::sync::Notify,
    /// Notices this instance's settlement just queued, leased to it: sent without a claim.
    fresh_notices: std::sync::Mutex<Vec<gavel_storage::DueNotice>>,
    /// Slots for fresh notices being sent ([`notices::IN_FLIGHT`]).
    delivery_slots: Arc<tokio::sync::Semaphore>,
    /// Outcomes of fresh notices' attempts, waiting for the recorder.
    attempts_made: std::sync::Mutex<Vec<(gavel_storage::NoticeRef, gavel_storage::Attempt)>>,
    /// Wakes the recorder when outcomes are waiting.
    attempts_queued: tokio::sync::Notify,
    /// Turns bearer tokens into callers.
    auth: Authenticator,
    /// Auction events for open streams, on this and other instances.
    events: Arc<EventHub>,
    /// How win notices are delivered.
    webhooks: WebhookSettings,
    /// HTTP client for win notices (rustls, no redirects, inward addresses dropped).
    http_client: reqwest::Client,
}

/// What `/ready` reports: each dependency as checked by the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// PostgreSQL answered (and is migrated).
    pub postgres: bool,
    /// Redis as probed now.
    pub redis: CacheHealth,
}

impl Services {
    /// Builds the services; nothing connects yet. Fails only when the win-notice client
    /// cannot be built: gavel then does not start, rather than send notices unguarded.
    pub fn new(
        storage: Storage,
        cache: Cache,
        admin_token: &SecretString,
        settings: ServiceSettings,
    ) -> Result<Self, ServiceError> {
        Ok(Self {
            storage,
            cache,
            board: board::Board::default(),
            raises: raises::Raises::default(),
            closer: tokio::sync::Notify::new(),
            closer_wakes_at: std::sync::atomic::AtomicI64::new(0),
            notices_queued: tokio::sync::Notify::new(),
            fresh_notices: std::sync::Mutex::default(),
            finishing: Arc::new(tokio::sync::Semaphore::new(settlement::FINISHING)),
            delivery_slots: Arc::new(tokio::sync::Semaphore::new(notices::IN_FLIGHT)),
            attempts_made: std::sync::Mutex::default(),
            attempts_queued: tokio::sync::Notify::new(),
            streams: streams::StreamLimits::new(settings.streams),
            auth: Authenticator::new(admin_token),
            events: Arc::new(EventHub::default()),
            http_client: notices::notice_client(settings.webhooks.targets)?,
            webhooks: settings.webhooks,
        })
    }

    /// Checks PostgreSQL (within `db_within`) and Redis now, at once.
    pub async fn ready(&self, db_within: Duration) -> Readiness {
        let (pg, redis) = tokio::join!(
            tokio::time::timeout(db_within, self.storage.ping()),
            self.cache.probe()
        );
        Readiness {
            postgres: matches!(pg, Ok(Ok(()))),
            redis,
        }
    }

    /// The PostgreSQL pool's state (no I/O).
    pub fn pool_stats(&self) -> PoolStats {
        self.storage.pool_stats()
    }

    /// Event streams open on this instance.
    pub fn open_streams(&self) -> usize {
        self.streams.open()
    }

    /// Auctions with streams open on them on this instance.
    pub fn watched_auctions(&self) -> usize {
        self.events.watched()
    }

    /// Flips when streams are to end (shutdown).
    pub fn streams_closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.events.closed()
    }

    /// Ends every open event stream (at shutdown: they never end by themselves).
    pub fn close_streams(&self) {
        self.events.close();
    }

    /// Returns PostgreSQL's connections politely (at shutdown).
    pub async fn close(&self) {
        self.storage.close().await;
    }

    /// Takes an event from another instance (through Redis): its streams here get it, and
    /// what this instance knows of the auction is updated.
    pub fn on_remote_event(&self, raw: &str) {
        if let Some(event) = self.events.on_remote(raw) {
            self.board.apply_remote(&event);
        }
    }

    /// Who `token` belongs to, and the rate limit that applies.
    pub async fn identify(&self, token: &str) -> Result<auth::Identity, ServiceError> {
        self.auth.identify(&self.storage, token).await
    }
}
