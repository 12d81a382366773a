//! Black-box harness: a real gavel server on an ephemeral port, with its own database
//! (from `#[sqlx::test]`) and its own Redis key prefix.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gavel_api::HttpOptions;
use gavel_api::{server, AppState, AppStateParts};
use gavel_cache::Cache;
use gavel_storage::Storage;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::sync::oneshot;

pub mod services;
pub mod sse;

#[allow(unused_imports)] // not every test binary uses them
pub use services::{PrivatePostgres, PrivateRedis};

/// The admin token every test app uses.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdefghij";

/// Where Redis is for tests (the project's scripts always provide one).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .expect("REDIS_URL must be set: run the tests through scripts/test.sh")
}

/// A Redis URL nobody listens on.
pub const DEAD_REDIS_URL: &str = "redis://127.0.0.1:1";

/// How a test app is set up.
#[derive(Clone)]
pub struct Options {
    /// Redis URL; `None` disables the cache.
    pub redis_url: Option<String>,
    /// Redis through Sentinel instead (overrides `redis_url`).
    pub redis_sentinel: Option<gavel_cache::RedisTarget>,
    /// Redis key prefix (shared by instances that share a database).
    pub redis_prefix: String,
    /// HTTP options.
    pub http: HttpOptions,
    /// Shutdown grace.
    pub grace: Duration,
    /// Per-bidder rate limit and burst (0: off).
    pub rate: (u32, u32),
    /// `/metrics` bearer.
    pub metrics_token: Option<String>,
    /// Win-notice delivery.
    pub webhooks: gavel_service::WebhookSettings,
    /// Event stream limits.
    pub streams: gavel_service::StreamSettings,
}

static PREFIX_SEQ: AtomicU64 = AtomicU64::new(0);

/// A Redis prefix no other test uses.
pub fn unique_prefix() -> String {
    format!(
        "gavel-test-{}-{}-{}",
        std::process::id(),
        PREFIX_SEQ.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

impl Default for Options {
    fn default() -> Self {
        Self {
            redis_url: Some(redis_url()),
            redis_sentinel: None,
            redis_prefix: unique_prefix(),
            http: HttpOptions::default(),
            grace: Duration::from_secs(5),
            rate: (0, 0),
            metrics_token: None,
            webhooks: gavel_service::WebhookSettings {
                max_attempts: 4,
                timeout: Duration::from_secs(2),
                backoff_base: Duration::from_millis(100),
                backoff_max: Duration::from_secs(1),
                targets: gavel_domain::webhook::Targets::AllowPrivate,
            },
            streams: gavel_service::StreamSettings::default(),
        }
    }
}

/// A running instance.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Listen address.
    pub addr: SocketAddr,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The database pool the app uses.
    pub pool: PgPool,
    /// The app's state (storage and cache handles).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts an app on `pool`'s database with default options.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, Options::default()).await
}

/// Starts an app on `pool`'s database.
pub async fn spawn_app_with(pool: PgPool, opts: Options) -> TestApp {
    spawn_app_on(Storage::from_pool(pool), opts).await
}

/// Starts an app on the given storage (e.g. a lazily connecting pool).
pub async fn spawn_app_on(storage: Storage, opts: Options) -> TestApp {
    storage.migrate().await.expect("migrations");
    spawn_app_unmigrated(storage, opts).await
}

/// Starts an app that migrates by itself once it reaches PostgreSQL, as the binary does.
pub async fn spawn_app_unmigrated(storage: Storage, opts: Options) -> TestApp {
    let pool = storage.pool().clone();
    let cache = match (&opts.redis_sentinel, &opts.redis_url) {
        (Some(target), _) => {
            Cache::connect(target, &opts.redis_prefix, Duration::from_millis(200)).unwrap()
        }
        (None, Some(url)) => {
            Cache::new(url, &opts.redis_prefix, Duration::from_millis(200)).unwrap()
        }
        (None, None) => Cache::disabled(),
    };
    let services = gavel_service::Services::new(
        storage,
        cache,
        &SecretString::from(ADMIN_TOKEN),
        gavel_service::ServiceSettings {
            webhooks: opts.webhooks.clone(),
            streams: opts.streams,
        },
    )
    .unwrap();
    let state: AppState = AppStateParts::new(services)
        .with_rate_limit(opts.rate.0, opts.rate.1)
        .with_metrics_token(opts.metrics_token.clone().map(SecretString::from).as_ref())
        .into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(server::serve(
        listener,
        state.clone(),
        opts.http.clone(),
        opts.grace,
        async move {
            let _ = rx.await;
        },
    ));
    TestApp {
        url: format!("http://{addr}"),
        addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        pool,
        state,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

impl TestApp {
    /// Signals shutdown and waits for the server to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.take().unwrap().await.unwrap()
    }

    /// GET with an optional bearer.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut r = self.client.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// POST JSON with an optional bearer.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut r = self.client.post(format!("{}{path}", self.url)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    /// Creates a bidder; returns its id and API key.
    pub async fn create_bidder(&self, name: &str) -> (i64, String) {
        let r = self
            .post("/api/bidders", Some(ADMIN_TOKEN), &json!({"name": name}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        (
            v["id"].as_i64().unwrap(),
            v["api_key"].as_str().unwrap().to_string(),
        )
    }

    /// Creates an auction from `body` merged over an open english default; returns it.
    pub async fn create_auction(&self, body: Value) -> Value {
        let mut base = json!({
            "title": "Homepage leaderboard",
            "ends_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        });
        if let (Some(b), Some(extra)) = (base.as_object_mut(), body.as_object()) {
            for (k, v) in extra {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.post("/api/auctions", Some(ADMIN_TOKEN), &base).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    /// Redis as `/ready` reports it now (`ok`, `degraded`, `disabled`).
    pub async fn redis_state(&self) -> String {
        let (_, v) = status_json(self.get("/ready", None).await).await;
        v["dependencies"]["redis"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Places a bid.
    pub async fn bid(&self, key: &str, auction_id: i64, amount: Value) -> Response {
        self.post(
            "/api/bids",
            Some(key),
            &json!({"auction_id": auction_id, "amount": amount}),
        )
        .await
    }
}

/// Status and JSON body of a response, with the problem content type checked for errors.
/// Whether a `/metrics` text counts requests under `route` with `status`.
pub fn counted(metrics: &str, route: &str, status: &str) -> bool {
    let (route, status) = (
        format!(r#"route="{route}""#),
        format!(r#"status="{status}""#),
    );
    metrics.lines().any(|l| {
        l.starts_with("gavel_http_requests_total") && l.contains(&route) && l.contains(&status)
    })
}

pub async fn status_json(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(ct, "application/problem+json", "{status} {v}");
        assert_eq!(v["status"].as_u64(), Some(status.as_u16() as u64), "{v}");
    }
    (status, v)
}

/// A free TCP port on 127.0.0.1 (free now; good enough for tests).
pub fn free_port() -> u16 {
    gavel_devkit::free_port()
}
