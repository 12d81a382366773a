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

use std::sync::Arc;

use gavel_cache::Cache;
use gavel_storage::Storage;
use secrecy::SecretString;

pub use auth::{Authenticator, Caller};
pub use bidders::CreatedBidder;
pub use bidding::BidAnswer;
pub use error::ServiceError;
pub use events::EventHub;
pub use notices::WebhookSettings;
pub use streams::StreamSettings;

/// Everything the use cases need; shared by handlers and workers behind an `Arc`.
pub struct Services {
    /// PostgreSQL, the source of truth.
    pub storage: Storage,
    /// Redis fast path (possibly disabled).
    pub cache: Cache,
    /// What this instance knows of auctions in memory (reads, floors).
    pub board: board::Board,
    /// Fast-path raises waiting to be sent to Redis.
    pub raises: raises::Raises,
    /// Open event streams, counted against their limits.
    pub streams: Arc<streams::StreamLimits>,
    /// Wakes the closer before its nap ends.
    closer: tokio::sync::Notify,
    /// Turns bearer tokens into callers.
    pub auth: Authenticator,
    /// Auction events for open streams, on this and other instances.
    pub events: Arc<EventHub>,
    /// How win notices are delivered.
    pub webhooks: WebhookSettings,
    /// HTTP client for win notices (rustls, no redirects, inward addresses dropped).
    pub http_client: reqwest::Client,
}

impl Services {
    /// Builds the services; nothing connects yet.
    pub fn new(storage: Storage, cache: Cache, admin_token: &SecretString) -> Self {
        Self {
            storage,
            cache,
            board: board::Board::default(),
            raises: raises::Raises::default(),
            closer: tokio::sync::Notify::new(),
            streams: streams::StreamLimits::new(streams::StreamSettings::default()),
            auth: Authenticator::new(admin_token),
            events: Arc::new(EventHub::default()),
            webhooks: WebhookSettings::default(),
            http_client: notices::notice_client(WebhookSettings::default().targets),
        }
    }

    /// Sets how many event streams may be open.
    pub fn with_stream_limits(mut self, settings: streams::StreamSettings) -> Self {
        self.set_stream_limits(settings);
        self
    }

    /// Sets how many event streams may be open, in place.
    pub fn set_stream_limits(&mut self, settings: streams::StreamSettings) {
        self.streams = streams::StreamLimits::new(settings);
    }

    /// Sets how win notices are delivered.
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> Self {
        self.set_webhooks(settings);
        self
    }

    /// Sets how win notices are delivered, in place (the client follows the targets).
    pub fn set_webhooks(&mut self, settings: WebhookSettings) {
        self.http_client = notices::notice_client(settings.targets);
        self.webhooks = settings;
    }

    /// Takes an event from another instance (through Redis): its streams here get it, and
    /// what this instance knows of the auction is updated.
    pub fn on_remote_event(&self, raw: &str) {
        if let Some(event) = self.events.on_remote(raw) {
            self.board.apply_remote(&event);
        }
    }

    /// Who `token` belongs to.
    pub async fn identify(&self, token: &str) -> Result<Caller, ServiceError> {
        self.auth.identify(&self.storage, token).await
    }
}
