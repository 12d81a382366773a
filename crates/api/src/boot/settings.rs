//! Configuration: read once at start from flags and environment variables (`clap`),
//! then checked into [`Settings`]; a bad setting stops start-up with one line.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sqlx::postgres::PgConnectOptions;

/// Shortest admin token accepted.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

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
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL; without it the fast path is disabled.
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 3000, global = true)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, env = "GAVEL_BIND", default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED), global = true)]
    pub bind: IpAddr,
    /// Admin bearer token, at least 32 characters.
    #[arg(long, env = "GAVEL_ADMIN_TOKEN", global = true, hide_env_values = true)]
    pub admin_token: Option<String>,
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
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
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
    /// Prefix of every Redis key (lets deployments share a Redis).
    #[arg(
        long,
        env = "GAVEL_REDIS_PREFIX",
        default_value = "gavel",
        global = true
    )]
    pub redis_prefix: String,
}

/// CORS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access.
    None,
    /// Any origin (`*`).
    Any,
    /// These origins only.
    List(Vec<String>),
}

/// Checked settings for the server.
#[derive(Clone)]
pub struct Settings {
    /// Parsed PostgreSQL options (the URL itself is never kept, so never logged).
    pub database: PgConnectOptions,
    /// Redis URL, if any.
    pub redis_url: Option<String>,
    /// Listen address.
    pub listen: SocketAddr,
    /// Admin bearer token.
    pub admin_token: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Request timeout.
    pub request_timeout: Duration,
    /// CORS policy.
    pub cors: CorsOrigins,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// Most PostgreSQL connections.
    pub db_max_connections: u32,
    /// PostgreSQL acquire timeout.
    pub db_acquire_timeout: Duration,
    /// Redis call bound.
    pub redis_timeout: Duration,
    /// Redis key prefix.
    pub redis_prefix: String,
    /// Per-bidder requests a second (0: off).
    pub rate_limit: u32,
    /// Burst over the rate.
    pub rate_burst: u32,
    /// In-flight cap.
    pub max_inflight: usize,
    /// `/metrics` bearer token.
    pub metrics_token: Option<String>,
    /// Win-notice delivery.
    pub webhooks: crate::webhooks::WebhookSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Deliberately leaves out the database options, Redis URL and admin token.
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("request_timeout", &self.request_timeout)
            .field("cors", &self.cors)
            .finish_non_exhaustive()
    }
}

/// A setting that stops start-up; its message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Options {
    /// Parsed database options, or the one-line reason why not.
    pub fn database(&self) -> Result<PgConnectOptions, ConfigError> {
        let url = self
            .database_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                ConfigError("DATABASE_URL is required (postgres://user@host/db)".into())
            })?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError(
                "DATABASE_URL must start with postgres:// or postgresql://".into(),
            ));
        }
        // The driver's message may quote the URL, password included: say only what it is.
        PgConnectOptions::from_str(url)
            .map_err(|_| ConfigError("DATABASE_URL is not a valid postgres:// URL".into()))
    }

    /// Checks everything the server needs.
    pub fn server_settings(&self) -> Result<Settings, ConfigError> {
        let database = self.database()?;
        let admin_token = self.admin_token.clone().unwrap_or_default();
        if admin_token.chars().count() < MIN_ADMIN_TOKEN_LEN {
            return Err(ConfigError(format!(
                "GAVEL_ADMIN_TOKEN must be set to at least {MIN_ADMIN_TOKEN_LEN} characters"
            )));
        }
        let redis_url = self.redis_url.clone().filter(|u| !u.trim().is_empty());
        if let Some(u) = &redis_url {
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return Err(ConfigError(
                    "REDIS_URL must start with redis:// or rediss://".into(),
                ));
            }
        }
        if self.request_timeout_ms == 0 {
            return Err(ConfigError(
                "GAVEL_REQUEST_TIMEOUT_MS must be greater than 0".into(),
            ));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError(
                "GAVEL_DB_MAX_CONNECTIONS must be greater than 0".into(),
            ));
        }
        if self.db_acquire_timeout_ms == 0 {
            return Err(ConfigError(
                "GAVEL_DB_ACQUIRE_TIMEOUT_MS must be greater than 0".into(),
            ));
        }
        if self.redis_timeout_ms == 0 {
            return Err(ConfigError(
                "GAVEL_REDIS_TIMEOUT_MS must be greater than 0".into(),
            ));
        }
        if self.max_inflight == 0 {
            return Err(ConfigError(
                "GAVEL_MAX_INFLIGHT must be greater than 0".into(),
            ));
        }
        let metrics_token = self.metrics_token.clone().filter(|t| !t.is_empty());
        if self.webhook_max_attempts == 0 {
            return Err(ConfigError(
                "GAVEL_WEBHOOK_MAX_ATTEMPTS must be greater than 0".into(),
            ));
        }
        if self.webhook_timeout_ms == 0 {
            return Err(ConfigError(
                "GAVEL_WEBHOOK_TIMEOUT_MS must be greater than 0".into(),
            ));
        }
        Ok(Settings {
            database,
            redis_url,
            listen: SocketAddr::new(self.bind, self.port),
            admin_token,
            log_format: self.log_format,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            cors: parse_cors(&self.cors_origins)?,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            db_max_connections: self.db_max_connections,
            db_acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            redis_timeout: Duration::from_millis(self.redis_timeout_ms),
            redis_prefix: self.redis_prefix.clone(),
            rate_limit: self.rate_limit,
            rate_burst: self.rate_burst.unwrap_or((self.rate_limit / 10).max(1)),
            max_inflight: self.max_inflight,
            metrics_token,
            webhooks: crate::webhooks::WebhookSettings {
                max_attempts: self.webhook_max_attempts,
                timeout: Duration::from_millis(self.webhook_timeout_ms),
                backoff_base: Duration::from_millis(self.webhook_backoff_base_ms),
                backoff_max: Duration::from_secs(self.webhook_backoff_max_secs),
            },
        })
    }
}

fn parse_cors(raw: &str) -> Result<CorsOrigins, ConfigError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if raw == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for o in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let parsed = url::Url::parse(o)
            .map_err(|_| ConfigError(format!("GAVEL_CORS_ORIGINS has an invalid origin: {o}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(ConfigError(format!(
                "GAVEL_CORS_ORIGINS has an invalid origin: {o}"
            )));
        }
        origins.push(o.trim_end_matches('/').to_string());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        let mut all = vec!["gavel"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().options
    }

    #[test]
    fn missing_database_url_is_named() {
        let o = Options {
            database_url: None,
            ..parse(&["--admin-token", &"x".repeat(32)])
        };
        let e = o.server_settings().unwrap_err().to_string();
        assert!(e.contains("DATABASE_URL"), "{e}");
    }

    #[test]
    fn short_admin_token_is_refused() {
        let o = parse(&[
            "--database-url",
            "postgres://u:secret@localhost/db",
            "--admin-token",
            "short",
        ]);
        let e = o.server_settings().unwrap_err().to_string();
        assert!(e.contains("GAVEL_ADMIN_TOKEN"), "{e}");
    }

    #[test]
    fn bad_database_url_does_not_echo_the_password() {
        let o = parse(&[
            "--database-url",
            "mysql://u:hunter2@localhost/db",
            "--admin-token",
            &"x".repeat(32),
        ]);
        let e = o.server_settings().unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn cors_forms() {
        assert_eq!(parse_cors("").unwrap(), CorsOrigins::None);
        assert_eq!(parse_cors("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            parse_cors("https://a.example, http://b.example:8080/").unwrap(),
            CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://b.example:8080".into()
            ])
        );
        assert!(parse_cors("not a url").is_err());
    }
}
