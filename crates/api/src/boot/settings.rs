//! Settings: the command line's values checked once at start into [`Settings`]; a bad
//! setting stops start-up with one line naming it.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use gavel_domain::webhook::Targets;
use gavel_service::{StreamSettings, WebhookSettings};
use gavel_storage::BatchSettings;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;

use super::cli::{DatabaseArgs, LogFormat, Options, WebhookTargetArgs};
use super::connections::ConnectionLimits;
use crate::http::cors::CorsOrigins;
use crate::http::HttpOptions;

/// Shortest admin token accepted.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// PostgreSQL connection options, whose `Debug` leaves out the password.
#[derive(Clone)]
pub struct DatabaseOptions(pub PgConnectOptions);

impl std::fmt::Debug for DatabaseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseOptions")
            .field("host", &self.0.get_host())
            .field("port", &self.0.get_port())
            .field("database", &self.0.get_database())
            .finish_non_exhaustive()
    }
}

/// Checked settings for the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Parsed PostgreSQL options (the URL itself is never kept, so never logged).
    pub database: DatabaseOptions,
    /// Where Redis is, if anywhere.
    pub redis: Option<RedisTarget>,
    /// Listen address.
    pub listen: SocketAddr,
    /// Admin bearer token.
    pub admin_token: SecretString,
    /// Log format.
    pub log_format: LogFormat,
    /// Router options: timeout, CORS, in-flight cap.
    pub http: HttpOptions,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// Most PostgreSQL connections.
    pub db_max_connections: u32,
    /// PostgreSQL acquire timeout.
    pub db_acquire_timeout: Duration,
    /// How bids are grouped into transactions.
    pub bid_batching: BatchSettings,
    /// How many event streams may be open.
    pub streams: StreamSettings,
    /// Redis call bound.
    pub redis_timeout: Duration,
    /// Redis key prefix.
    pub redis_prefix: String,
    /// Per-bidder requests a second (0: off).
    pub rate_limit: u32,
    /// Burst over the rate.
    pub rate_burst: u32,
    /// `/metrics` bearer token.
    pub metrics_token: Option<SecretString>,
    /// Win-notice delivery.
    pub webhooks: WebhookSettings,
}

/// A setting that stops start-up; its message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A secret given as an empty string counts as not given.
fn given(s: &Option<SecretString>) -> Option<&str> {
    s.as_ref()
        .map(|s| s.expose_secret())
        .filter(|s| !s.trim().is_empty())
}

impl DatabaseArgs {
    /// Parsed database options, or the one-line reason why not.
    pub fn options(&self) -> Result<PgConnectOptions, ConfigError> {
        let url = given(&self.database_url).ok_or_else(|| {
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
}

impl WebhookTargetArgs {
    /// Where win notices may go (`GAVEL_WEBHOOK_ALLOW_PRIVATE`).
    pub fn targets(&self) -> Targets {
        if self.webhook_allow_private {
            Targets::AllowPrivate
        } else {
            Targets::PublicOnly
        }
    }
}

impl Options {
    /// Checks everything the server needs.
    pub fn server_settings(&self) -> Result<Settings, ConfigError> {
        let database = self.database.options()?;
        let admin_token = given(&self.admin_token).unwrap_or_default();
        if admin_token.chars().count() < MIN_ADMIN_TOKEN_LEN {
            return Err(ConfigError(format!(
                "GAVEL_ADMIN_TOKEN must be set to at least {MIN_ADMIN_TOKEN_LEN} characters"
            )));
        }
        let redis = self.redis_target()?;
        let must_be_positive = [
            ("GAVEL_REQUEST_TIMEOUT_MS", self.request_timeout_ms),
            ("GAVEL_DB_MAX_CONNECTIONS", self.db_max_connections.into()),
            ("GAVEL_DB_ACQUIRE_TIMEOUT_MS", self.db_acquire_timeout_ms),
            ("GAVEL_REDIS_TIMEOUT_MS", self.redis_timeout_ms),
            ("GAVEL_MAX_INFLIGHT", self.max_inflight as u64),
            (
                "GAVEL_WEBHOOK_MAX_ATTEMPTS",
                self.webhook_max_attempts.into(),
            ),
            ("GAVEL_WEBHOOK_TIMEOUT_MS", self.webhook_timeout_ms),
            ("GAVEL_BID_BATCH_WORKERS", self.bid_batch_workers as u64),
            ("GAVEL_BID_BATCH_MAX", self.bid_batch_max as u64),
            ("GAVEL_BID_QUEUE", self.bid_queue as u64),
            ("GAVEL_MAX_STREAMS", self.max_streams as u64),
            ("GAVEL_HEADER_TIMEOUT_SECS", self.header_timeout_secs),
            ("GAVEL_MAX_CONNECTIONS", self.max_connections as u64),
            ("GAVEL_MAX_STREAMS_PER_KEY", self.max_streams_per_key as u64),
        ];
        if let Some((name, _)) = must_be_positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError(format!("{name} must be greater than 0")));
        }
        Ok(Settings {
            database: DatabaseOptions(database),
            redis,
            listen: SocketAddr::new(self.listen.bind, self.listen.port),
            admin_token: admin_token.into(),
            log_format: self.log_format,
            http: HttpOptions {
                request_timeout: Duration::from_millis(self.request_timeout_ms),
                cors: CorsOrigins::parse(&self.cors_origins)?,
                max_inflight: self.max_inflight,
                connections: ConnectionLimits {
                    header_timeout: Duration::from_secs(self.header_timeout_secs),
                    max: self.max_connections,
                },
            },
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            db_max_connections: self.db_max_connections,
            db_acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            bid_batching: BatchSettings {
                workers: self.bid_batch_workers,
                max_batch: self.bid_batch_max,
                queue: self.bid_queue,
            },
            streams: StreamSettings {
                per_instance: self.max_streams,
                per_key: self.max_streams_per_key,
            },
            redis_timeout: Duration::from_millis(self.redis_timeout_ms),
            redis_prefix: self.redis_prefix.clone(),
            rate_limit: self.rate_limit,
            rate_burst: self.rate_burst.unwrap_or((self.rate_limit / 10).max(1)),
            metrics_token: given(&self.metrics_token).map(SecretString::from),
            webhooks: WebhookSettings {
                max_attempts: self.webhook_max_attempts,
                timeout: Duration::from_millis(self.webhook_timeout_ms),
                backoff_base: Duration::from_millis(self.webhook_backoff_base_ms),
                backoff_max: Duration::from_secs(self.webhook_backoff_max_secs),
                targets: self.webhooks.targets(),
            },
        })
    }
}

/// Where Redis is: `REDIS_URL`, or the Sentinels; its `Debug` shows no URL (a URL may
/// carry a password).
#[derive(Clone)]
pub struct RedisTarget(pub gavel_cache::RedisTarget);

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            gavel_cache::RedisTarget::Direct(_) => f.write_str("RedisTarget::Direct(..)"),
            gavel_cache::RedisTarget::Sentinel { sentinels, service } => f
                .debug_struct("RedisTarget::Sentinel")
                .field("sentinels", sentinels)
                .field("service", service)
                .finish(),
        }
    }
}

impl Options {
    /// `REDIS_URL` or `GAVEL_REDIS_SENTINELS` (not both), checked.
    fn redis_target(&self) -> Result<Option<RedisTarget>, ConfigError> {
        let sentinels: Vec<&str> = self
            .redis_sentinels
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        match (given(&self.redis_url), sentinels.is_empty()) {
            (Some(_), false) => Err(ConfigError(
                "set REDIS_URL or GAVEL_REDIS_SENTINELS, not both".into(),
            )),
            (Some(url), true) => {
                if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                    return Err(ConfigError(
                        "REDIS_URL must start with redis:// or rediss://".into(),
                    ));
                }
                Ok(Some(RedisTarget(gavel_cache::RedisTarget::Direct(
                    url.into(),
                ))))
            }
            (None, true) => Ok(None),
            (None, false) => {
                let mut urls = Vec::with_capacity(sentinels.len());
                for s in sentinels {
                    let port = s
                        .rsplit_once(':')
                        .map(|(host, port)| (host, port.parse::<u16>()));
                    match port {
                        Some((host, Ok(port))) if !host.is_empty() && port > 0 => {
                            urls.push(format!("redis://{host}:{port}"));
                        }
                        _ => {
                            return Err(ConfigError(format!(
                                "GAVEL_REDIS_SENTINELS must list host:port addresses, not {s:?}"
                            )))
                        }
                    }
                }
                let service = self.redis_sentinel_service.trim();
                if service.is_empty() {
                    return Err(ConfigError(
                        "GAVEL_REDIS_SENTINEL_SERVICE must not be empty".into(),
                    ));
                }
                Ok(Some(RedisTarget(gavel_cache::RedisTarget::Sentinel {
                    sentinels: urls,
                    service: service.into(),
                })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::cli::{Cli, Command};
    use super::*;

    fn parse(args: &[&str]) -> Options {
        let mut all = vec!["gavel"];
        all.extend_from_slice(args);
        match Cli::parse_args(all).unwrap().command {
            Command::Serve(options) => options,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn missing_database_url_is_named() {
        let mut o = parse(&["--admin-token", &"x".repeat(32)]);
        o.database.database_url = None;
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
    fn zero_limits_are_named() {
        let o = parse(&[
            "--database-url",
            "postgres://localhost/db",
            "--admin-token",
            &"x".repeat(32),
            "--max-inflight",
            "0",
        ]);
        let e = o.server_settings().unwrap_err().to_string();
        assert_eq!(e, "GAVEL_MAX_INFLIGHT must be greater than 0");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let o = parse(&[
            "--database-url",
            "postgres://u:hunter2@localhost/db",
            "--admin-token",
            &"s3cret".repeat(8),
            "--metrics-token",
            "m3trics",
        ]);
        let shown = format!("{o:?} {:?}", o.server_settings().unwrap());
        for secret in ["hunter2", "s3cret", "m3trics"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
