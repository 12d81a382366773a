//! The one error type of the cache crate. Callers log these and carry on.

/// What a cache call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The Redis URL or pool settings are unusable.
    #[error("bad redis configuration: {0}")]
    Config(String),
    /// No connection could be had.
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// The call took longer than the cache's time bound.
    #[error("redis call timed out")]
    Timeout,
    /// Redis answered with an error.
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
}
