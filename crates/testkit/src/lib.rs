//! What gavel's test suites share (a dev-dependency only).

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(25);

/// Polls `probe` until it returns `Some`, and returns that; fails naming `what` when
/// `within` passes first. The one way tests wait for something that happens by itself
/// (a settlement, a notice, a recovery).
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for a yes-or-no condition.
pub async fn until<F, Fut>(within: Duration, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(within, what, || {
        let check = probe();
        async move { check.await.then_some(()) }
    })
    .await
}

/// Holds auction `id`'s row lock until the returned transaction ends, so that any bid
/// reaching PostgreSQL waits: the way tests keep a bid in flight.
pub async fn hold_row_lock(pool: &PgPool, id: i64) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut held = pool.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM auctions WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *held)
        .await
        .expect("the auction's row lock");
    held
}
