//! The command-line grammar (`clap`): sub-commands and every setting as a flag with its
//! environment variable. Checking the values is [`super::settings`]'s job.

use std::net::{IpAddr, Ipv4Addr};

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// The `gavel` command line.
#[derive(Debug, Parser)]
#[command(name = "gavel", version, about = "Real-time-bidding auction backend")]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub options: Options,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 when the local server (PORT, GAVEL_BIND) answers `/health` within 2 s
    /// (for container health checks).
    Healthcheck,
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
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (default).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Raw settings as given on the command line or in the environment.
#[derive(Debug, Args, Clone)]
pub struct Options {
    /// PostgreSQL URL (required).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// Redis URL; without it the fast path is disabled.
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true, value_parser = secret)]
    pub redis_url: Option<SecretString>,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000, global = true)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, env = "GAVEL_BIND", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED), global = true)]
    pub bind: IpAddr,
    /// Admin bearer token, at least 32 characters.
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", global = true, hide_env_values = true, value_parser = secret)]
    pub admin_token: Option<SecretString>,
    /// `json` or `pretty`.
    #[arg(long, env = "GAVEL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json, global = true)]
    pub log_format: LogFormat,
    /// Longest a request may run before `503 timeout`.
    #[arg(
        long,
        env = "GAVEL_REQUEST_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// Comma-separated allowed CORS origins, or `*`; none when empty.
    #[arg(long, env = "GAVEL_CORS_ORIGINS", default_value = "", global = true)]
    pub cors_origins: String,
    /// Longest wait for in-flight requests after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "GAVEL_SHUTDOWN_GRACE_SECS",
        default_value_t = 25,
        global = true
    )]
    pub shutdown_grace_secs: u64,
    /// Most PostgreSQL connections.
    #[arg(
        long,
        env = "GAVEL_DB_MAX_CONNECTIONS",
        default_value_t = 20,
        global = true
    )]
    pub db_max_connections: u32,
    /// Longest wait for a PostgreSQL connection before `503 database_unavailable`.
    #[arg(
        long,
        env = "GAVEL_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 3_000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// Longest any one Redis call may take before it is skipped.
    #[arg(
        long,
        env = "GAVEL_REDIS_TIMEOUT_MS",
        default_value_t = 100,
        global = true
    )]
    pub redis_timeout_ms: u64,
    /// Bid transactions in flight at once (group commit workers, one connection each).
    #[arg(
        long,
        env = "GAVEL_BID_BATCH_WORKERS",
        default_value_t = 1,
        global = true
    )]
    pub bid_batch_workers: usize,
    /// Most bids decided in one transaction.
    #[arg(
        long,
        env = "GAVEL_BID_BATCH_MAX",
        default_value_t = 256,
        global = true
    )]
    pub bid_batch_max: usize,
    /// Most bids waiting for a transaction before the next is answered `503 overloaded`.
    #[arg(long, env = "GAVEL_BID_QUEUE", default_value_t = 4096, global = true)]
    pub bid_queue: usize,
    /// Seconds a connection has to send a whole request head (also how long a keep-alive
    /// connection may idle between requests); past it the connection is closed.
    #[arg(
        long,
        env = "GAVEL_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_timeout_secs: u64,
    /// Most connections open on this instance; past it new ones are closed at once.
    #[arg(
        long,
        env = "GAVEL_MAX_CONNECTIONS",
        default_value_t = 12_000,
        global = true
    )]
    pub max_connections: usize,
    /// Most event streams open on this instance (past it: `503 overloaded`).
    #[arg(
        long,
        env = "GAVEL_MAX_STREAMS",
        default_value_t = 10_000,
        global = true
    )]
    pub max_streams: usize,
    /// Most event streams open for one key (past it: `429 rate_limited`).
    #[arg(
        long,
        env = "GAVEL_MAX_STREAMS_PER_KEY",
        default_value_t = 100,
        global = true
    )]
    pub max_streams_per_key: usize,
    /// Requests a second allowed per bidder key on each instance; 0 turns the limit off.
    #[arg(long, env = "GAVEL_RATE_LIMIT", default_value_t = 1000, global = true)]
    pub rate_limit: u32,
    /// Burst allowed over the rate limit; default a tenth of the rate (at least 1).
    #[arg(long, env = "GAVEL_RATE_BURST", global = true)]
    pub rate_burst: Option<u32>,
    /// Most API requests in flight on this instance before `503 overloaded`.
    #[arg(
        long,
        env = "GAVEL_MAX_INFLIGHT",
        default_value_t = 1024,
        global = true
    )]
    pub max_inflight: usize,
    /// Bearer token required by `/metrics`; open when unset.
    #[arg(
        long,
        env = "GAVEL_METRICS_TOKEN",
        global = true,
        hide_env_values = true,
        value_parser = secret
    )]
    pub metrics_token: Option<SecretString>,
    /// Attempts at delivering a win notice before it is marked failed.
    #[arg(
        long,
        env = "GAVEL_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub webhook_max_attempts: u32,
    /// A win-notice POST without an answer within this fails (and is retried).
    #[arg(
        long,
        env = "GAVEL_WEBHOOK_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub webhook_timeout_ms: u64,
    /// First retry delay of win notices; doubles each attempt.
    #[arg(
        long,
        env = "GAVEL_WEBHOOK_BACKOFF_BASE_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub webhook_backoff_base_ms: u64,
    /// Longest delay between win-notice attempts.
    #[arg(
        long,
        env = "GAVEL_WEBHOOK_BACKOFF_MAX_SECS",
        default_value_t = 300,
        global = true
    )]
    pub webhook_backoff_max_secs: u64,
    /// Let win notices go to loopback, link-local and private addresses (tests, private
    /// networks); off by default.
    #[arg(
        long,
        env = "GAVEL_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false,
        global = true
    )]
    pub webhook_allow_private: bool,
    /// Prefix of every Redis key (lets deployments share a Redis).
    #[arg(
        long,
        env = "GAVEL_REDIS_PREFIX",
        default_value = "gavel",
        global = true
    )]
    pub redis_prefix: String,
}

/// Secrets are wrapped as soon as they are read, so no `Debug` or log line shows them.
fn secret(s: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(s.into())
}
