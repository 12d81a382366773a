//! Connections opened before PostgreSQL was last seen unable to take writes are closed,
//! not reused.
//!
//! When the primary crashes, is demoted, or comes back read-only, every connection to it
//! is suspect: reused, each would fail one more request, or (to a demoted server that
//! still answers) fail every write. So the first such error marks the moment, and the
//! pool closes each connection older than the mark as it is released or acquired; the
//! next connection goes through the address again (HAProxy, a relay, DNS) and reaches the
//! new primary. The check is a comparison of two clocks, no round trip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The clock the mark counts from (first use in this process).
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// When a connection was last lost, in nanoseconds after [`EPOCH`]; 0 before any.
///
/// One mark per process: a process talks to one database, and a false mark only costs
/// reconnecting once.
static LAST_LOSS: AtomicU64 = AtomicU64::new(0);

fn since_epoch(at: Instant) -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// Starts the clock (before the pool opens its first connection).
pub(crate) fn start_clock() {
    EPOCH.get_or_init(Instant::now);
}

/// Records that a connection met a server that cannot take writes now.
pub(crate) fn mark_lost() {
    // +1: a mark at the epoch itself must still read as "a loss happened".
    LAST_LOSS.fetch_max(since_epoch(Instant::now()) + 1, Ordering::Relaxed);
}

/// True for a connection of age `age` that was opened before the last loss.
pub(crate) fn opened_before_loss(age: Duration) -> bool {
    let mark = LAST_LOSS.load(Ordering::Relaxed);
    if mark == 0 {
        return false;
    }
    let opened = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
    since_epoch(opened) < mark
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_older_than_a_loss_are_dropped_and_newer_ones_kept() {
        start_clock();
        std::thread::sleep(Duration::from_millis(5));
        let old = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        mark_lost();
        std::thread::sleep(Duration::from_millis(5));
        let young = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(opened_before_loss(old.elapsed()));
        assert!(!opened_before_loss(young.elapsed()));
    }
}
