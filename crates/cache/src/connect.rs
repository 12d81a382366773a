//! Where Redis is: one address, or whichever server Redis Sentinel names the primary.

use std::time::Duration;

use deadpool_redis::{PoolConfig, Runtime, Timeouts};
use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use tokio::sync::Mutex;

use crate::CacheError;

/// How to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server (`redis://` or `rediss://` URL).
    Direct(String),
    /// The primary of `service` as the Sentinels say, asked again for each new connection:
    /// a Sentinel failover looks like a Redis outage that ends by itself.
    Sentinel {
        /// Sentinel URLs (`redis://host:26379`).
        sentinels: Vec<String>,
        /// The monitored service's name (`sentinel monitor <name> …`).
        service: String,
    },
}

/// The connection pool, for either kind of target.
pub(crate) enum Pools {
    Direct {
        pool: deadpool_redis::Pool,
        /// For the pub/sub connection, which cannot come from the pool.
        client: redis::Client,
    },
    Sentinel {
        pool: deadpool_redis::sentinel::Pool,
        /// For the pub/sub connection: asks the Sentinels for the primary each time.
        client: Mutex<SentinelClient>,
    },
}

impl Pools {
    /// Builds the pool; no connection is made until first use.
    pub(crate) fn new(target: &RedisTarget, op_timeout: Duration) -> Result<Self, CacheError> {
        let config = PoolConfig {
            max_size: 32,
            timeouts: Timeouts {
                wait: Some(op_timeout),
                create: Some(op_timeout),
                recycle: Some(op_timeout),
            },
            ..Default::default()
        };
        let bad = |e: &dyn std::fmt::Display| CacheError::Config(e.to_string());
        match target {
            RedisTarget::Direct(url) => {
                let mut cfg = deadpool_redis::Config::from_url(url);
                cfg.pool = Some(config);
                Ok(Pools::Direct {
                    pool: cfg
                        .create_pool(Some(Runtime::Tokio1))
                        .map_err(|e| bad(&e))?,
                    client: redis::Client::open(url.as_str()).map_err(|e| bad(&e))?,
                })
            }
            RedisTarget::Sentinel { sentinels, service } => {
                let mut cfg = deadpool_redis::sentinel::Config::from_urls(
                    sentinels.clone(),
                    service.clone(),
                    deadpool_redis::sentinel::SentinelServerType::Master,
                );
                cfg.pool = Some(config);
                let urls: Vec<&str> = sentinels.iter().map(String::as_str).collect();
                let client =
                    SentinelClient::build(urls, service.clone(), None, SentinelServerType::Master)
                        .map_err(|e| bad(&e))?;
                Ok(Pools::Sentinel {
                    pool: cfg
                        .create_pool(Some(Runtime::Tokio1))
                        .map_err(|e| bad(&e))?,
                    client: Mutex::new(client),
                })
            }
        }
    }

    /// Runs `op` on a pooled connection. A connection that failed is dropped rather than
    /// returned: it may lead to a server that is gone or no longer the primary.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let unavailable = |e: &dyn std::fmt::Display| CacheError::Unavailable(e.to_string());
        match self {
            Pools::Direct { pool, .. } => {
                let conn = pool.get().await.map_err(|e| unavailable(&e))?;
                // A multiplexed connection is a cheap handle: `op` gets a clone, and the
                // pooled object goes back (or away) once `op` is done.
                let result = op((*conn).clone()).await;
                if result.is_err() {
                    drop(deadpool_redis::Connection::take(conn));
                }
                Ok(result?)
            }
            Pools::Sentinel { pool, .. } => {
                let conn = pool.get().await.map_err(|e| unavailable(&e))?;
                let result = op((*conn).clone()).await;
                if result.is_err() {
                    drop(deadpool_redis::sentinel::Connection::take(conn));
                }
                Ok(result?)
            }
        }
    }

    /// A dedicated pub/sub connection to the primary.
    pub(crate) async fn pubsub(&self) -> redis::RedisResult<redis::aio::PubSub> {
        match self {
            Pools::Direct { client, .. } => client.get_async_pubsub().await,
            Pools::Sentinel { client, .. } => {
                let primary = client.lock().await.async_get_client().await?;
                primary.get_async_pubsub().await
            }
        }
    }
}
