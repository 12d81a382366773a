//! Migrating at start-up, retrying until PostgreSQL answers (down at start is not fatal).

use std::time::Duration;

use gavel_storage::Storage;
use tokio::sync::watch;

/// Applies migrations, every `retry` until they succeed or `stop` flips.
pub async fn until_done(storage: Storage, retry: Duration, mut stop: watch::Receiver<bool>) {
    let mut failures = 0u32;
    loop {
        match storage.migrate().await {
            Ok(()) => {
                tracing::info!("database migrated and ready");
                return;
            }
            Err(e) => {
                if failures % 10 == 0 {
                    tracing::warn!(error = %e, "database not ready; retrying");
                }
                failures += 1;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.changed() => return,
        }
    }
}
