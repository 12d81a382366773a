//! PostgreSQL's write-ahead log made ready as on a server in service, before anything is
//! measured.
//!
//! A freshly initialised cluster has no WAL segment files to reuse: each time the log
//! crosses into a new 16 MB segment, PostgreSQL creates the file and writes 16 MB of zeros
//! into it (`wal_init_zero`) while every commit waits. At the `rtb` rhythm (7.7 MB of WAL
//! a second) that is a commit stall of about 50 ms every 2 s, which set settlement p99 at
//! 14 to 31 ms on runs whose other seconds settled at 9 to 12. A server that has been
//! running renames the segments a checkpoint frees into the next ones instead, already
//! written, and never stalls so. Writing (then dropping) a table of about a gigabyte and
//! checkpointing gives the bench's server those segments, without changing a setting.

use crate::procs::psql;

/// Rows of 1 KB written once: about 64 segments, as many as a checkpoint recycles under
/// the default `max_wal_size` (1 GB), twice what the first `rtb` run writes (62 s × 7.7
/// MB); from there the bench's own load keeps checkpoints recycling, as in service.
const ROWS: u32 = 1_000_000;

/// Writes and drops a throw-away table, then checkpoints, so that the segments it filled
/// are recycled ahead of the log; returns how many segment files now wait ahead of it.
pub fn warm(db: &str) -> Result<u64, String> {
    psql(
        db,
        &format!(
            "CREATE TABLE gavel_bench_wal_warmup AS
             SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, {ROWS}) g"
        ),
    )?;
    psql(db, "DROP TABLE gavel_bench_wal_warmup")?;
    psql(db, "CHECKPOINT")?;
    let ahead = psql(
        db,
        "SELECT count(*) FROM pg_ls_waldir()
         WHERE name ~ '^[0-9A-F]{24}$' AND name > pg_walfile_name(pg_current_wal_lsn())",
    )?;
    ahead
        .parse()
        .map_err(|_| format!("counting WAL segments: {ahead:?}"))
}
