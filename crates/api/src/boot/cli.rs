//! The command-line grammar (`clap`): sub-commands and every setting as a flag with its
//! environment variable. Checking the values is [`super::settings`]'s job.

use std::net::{IpAddr, Ipv4Addr};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use gavel_service::{StreamSettings, WebhookSettings};
use gavel_storage::BatchSettings;
use secrecy::SecretString;

use super::connections::ConnectionLimits;
use crate::http::HttpOptions;

/// Whole milliseconds of `d`: a default written where its setting lives, in `Duration`.
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The `gavel` command line. Each sub-command takes only the settings it uses (and reads
/// only their environment variables); `gavel [OPTIONS]` is `gavel serve [OPTIONS]`.
#[derive(Debug, Parser)]
#[command(name = "gavel", version, about = "Real-time-bidding auction backend")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the program name first), reading a line without a sub-command as
    /// `serve`.
    pub fn parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString>,
    {
        let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        let named = args.get(1).and_then(|a| a.to_str()).is_some_and(|a| {
            Self::command().get_subcommands().any(|c| c.get_name() == a)
                || matches!(a, "help" | "-h" | "--help" | "-V" | "--version")
        });
        if !named {
            args.insert(1.min(args.len()), "serve".into());
        }
        Self::try_parse_from(args)
    }
}

/// Sub-commands.
// `Serve` is large, but there is one `Command` per process.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(Options),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Exit 0 when the local server (PORT, GAVEL_BIND) answers `/health` within 2 s
    /// (for container health checks).
    Healthcheck(ListenArgs),
    /// Manage bidders.
    Bidder {
        /// What to do with bidders.
        #[command(subcommand)]
        action: BidderCommand,
    },
}

/// `gavel bidder ...`.
#[derive(Debug, Subcommand)]
pub enum BidderCommand {
    /// Create a bidder and print its API key and webhook secret (shown only once).
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Where win notices are POSTed.
        #[arg(long)]
        webhook_url: Option<String>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
        /// Which webhook URLs are allowed.
        #[command(flatten)]
        webhooks: WebhookTargetArgs,
    },
    /// A bidder's API keys.
    Key {
        /// What to do with its keys.
        #[command(subcommand)]
        action: KeyCommand,
    },
    /// Refuse every key of a bidder (`403 bidder_disabled`) on every instance within 5 s.
    Disable(BidderRef),
    /// Honour a disabled bidder's keys again.
    Enable(BidderRef),
}

/// `gavel bidder key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new API key for a bidder and print it (shown only once).
    Create {
        /// The bidder.
        #[command(flatten)]
        bidder: BidderRef,
        /// Put an expiry this many seconds from now on the bidder's other keys.
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=2_592_000))]
        expire_others_in_secs: Option<u64>,
    },
    /// Revoke one of a bidder's keys: refused on every instance within 5 s.
    Revoke {
        /// The bidder.
        #[command(flatten)]
        bidder: BidderRef,
        /// The key's id (`key_id`, as `GET /api/bidders/{id}` lists it).
        #[arg(long)]
        key_id: i64,
    },
}

/// Which bidder, in which database.
#[derive(Debug, Args, Clone)]
pub struct BidderRef {
    /// The bidder's id.
    #[arg(long)]
    pub id: i64,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Where the database is.
#[derive(Debug, Args, Clone)]
pub struct DatabaseArgs {
    /// PostgreSQL URL (required).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
}

/// Where the server listens.
#[derive(Debug, Args, Clone)]
pub struct ListenArgs {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, env = "GAVEL_BIND", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    pub bind: IpAddr,
}

/// Which win-notice targets are allowed.
#[derive(Debug, Args, Clone)]
pub struct WebhookTargetArgs {
    /// Let win notices go to loopback, link-local and private addresses (tests, private
    /// networks); off by default.
    #[arg(long, env = "GAVEL_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (default).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// The server's raw settings as given on the command line or in the environment.
#[derive(Debug, Args, Clone)]
pub struct Options {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The listen address.
    #[command(flatten)]
    pub listen: ListenArgs,
    /// Redis URL; without it the fast path is disabled.
    #[arg(long, env = "REDIS_URL", hide_env_values = true, value_parser = secret)]
    pub redis_url: Option<SecretString>,
    /// Redis Sentinels (comma-separated `host:port`), used instead of `REDIS_URL`: each
    /// new Redis connection goes to the primary they name.
    #[arg(long, env = "GAVEL_REDIS_SENTINELS", value_delimiter = ',')]
    pub redis_sentinels: Vec<String>,
    /// The Sentinels' name for gavel's Redis (`sentinel monitor <name> …`).
    #[arg(long, env = "GAVEL_REDIS_SENTINEL_SERVICE", default_value = "gavel")]
    pub redis_sentinel_service: String,
    /// Admin bearer token, at least 32 characters.
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", hide_env_values = true, value_parser = secret)]
    pub admin_token: Option<SecretString>,
    /// `json` or `pretty`.
    #[arg(long, env = "GAVEL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Longest a request may run before `503 timeout`.
    #[arg(long, env = "GAVEL_REQUEST_TIMEOUT_MS", default_value_t = millis(HttpOptions::default().request_timeout))]
    pub request_timeout_ms: u64,
    /// Comma-separated allowed CORS origins, or `*`; none when empty.
    #[arg(long, env = "GAVEL_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Longest wait for in-flight requests after SIGTERM/SIGINT.
    #[arg(long, env = "GAVEL_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    pub shutdown_grace_secs: u64,
    /// Most PostgreSQL connections.
    #[arg(long, env = "GAVEL_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// Longest wait for a PostgreSQL connection before `503 database_unavailable`.
    #[arg(long, env = "GAVEL_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3_000)]
    pub db_acquire_timeout_ms: u64,
    /// Longest any one Redis call may take before it is skipped.
    #[arg(long, env = "GAVEL_REDIS_TIMEOUT_MS", default_value_t = 100)]
    pub redis_timeout_ms: u64,
    /// Bid transactions in flight at once (group commit workers, one connection each).
    #[arg(long, env = "GAVEL_BID_BATCH_WORKERS", default_value_t = BatchSettings::default().workers)]
    pub bid_batch_workers: usize,
    /// Most bids decided in one transaction.
    #[arg(long, env = "GAVEL_BID_BATCH_MAX", default_value_t = BatchSettings::default().max_batch)]
    pub bid_batch_max: usize,
    /// Most bids waiting for a transaction before the next is answered `503 overloaded`.
    #[arg(long, env = "GAVEL_BID_QUEUE", default_value_t = BatchSettings::default().queue)]
    pub bid_queue: usize,
    /// Seconds a connection has to send a whole request head (also how long a keep-alive
    /// connection may idle between requests); past it the connection is closed.
    #[arg(long, env = "GAVEL_HEADER_TIMEOUT_SECS", default_value_t = ConnectionLimits::default().header_timeout.as_secs())]
    pub header_timeout_secs: u64,
    /// Most connections open on this instance; past it new ones are closed at once.
    #[arg(long, env = "GAVEL_MAX_CONNECTIONS", default_value_t = ConnectionLimits::default().max)]
    pub max_connections: usize,
    /// Most event streams open on this instance (past it: `503 overloaded`).
    #[arg(long, env = "GAVEL_MAX_STREAMS", default_value_t = StreamSettings::default().per_instance)]
    pub max_streams: usize,
    /// Most event streams open for one key (past it: `429 rate_limited`).
    #[arg(long, env = "GAVEL_MAX_STREAMS_PER_KEY", default_value_t = StreamSettings::default().per_key)]
    pub max_streams_per_key: usize,
    /// Requests a second allowed per bidder key on each instance; 0 turns the limit off.
    #[arg(long, env = "GAVEL_RATE_LIMIT", default_value_t = 20_000)]
    pub rate_limit: u32,
    /// Burst allowed over the rate limit; default a tenth of the rate (at least 1).
    #[arg(long, env = "GAVEL_RATE_BURST")]
    pub rate_burst: Option<u32>,
    /// Most API requests in flight on this instance before `503 overloaded`.
    #[arg(long, env = "GAVEL_MAX_INFLIGHT", default_value_t = HttpOptions::default().max_inflight)]
    pub max_inflight: usize,
    /// Bearer token required by `/metrics`; open when unset.
    #[arg(
        long,
        env = "GAVEL_METRICS_TOKEN",
        hide_env_values = true,
        value_parser = secret
    )]
    pub metrics_token: Option<SecretString>,
    /// Attempts at delivering a win notice before it is marked failed.
    #[arg(long, env = "GAVEL_WEBHOOK_MAX_ATTEMPTS", default_value_t = WebhookSettings::default().max_attempts)]
    pub webhook_max_attempts: u32,
    /// A win-notice POST without an answer within this fails (and is retried).
    #[arg(long, env = "GAVEL_WEBHOOK_TIMEOUT_MS", default_value_t = millis(WebhookSettings::default().timeout))]
    pub webhook_timeout_ms: u64,
    /// First retry delay of win notices; doubles each attempt.
    #[arg(long, env = "GAVEL_WEBHOOK_BACKOFF_BASE_MS", default_value_t = millis(WebhookSettings::default().backoff_base))]
    pub webhook_backoff_base_ms: u64,
    /// Longest delay between win-notice attempts.
    #[arg(long, env = "GAVEL_WEBHOOK_BACKOFF_MAX_SECS", default_value_t = WebhookSettings::default().backoff_max.as_secs())]
    pub webhook_backoff_max_secs: u64,
    /// Which webhook URLs are allowed.
    #[command(flatten)]
    pub webhooks: WebhookTargetArgs,
    /// Prefix of every Redis key (lets deployments share a Redis).
    #[arg(long, env = "GAVEL_REDIS_PREFIX", default_value = "gavel")]
    pub redis_prefix: String,
}

/// Secrets are wrapped as soon as they are read, so no `Debug` or log line shows them.
fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(s.into())
}
