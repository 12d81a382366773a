//! The bench's `rtb` runs: the exchange's rhythm, on a fresh database by a gavel of its
//! own, and on the bench's gavel.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::procs::{self, free_port, psql, status_kib};
use crate::runs::Runs;
use crate::Args;

/// `rtb` first, on a fresh database, by a gavel of its own that stops before the others
/// start: nothing it left, in memory or through Redis, is in their figures. Its log is
/// `log_stem` with `.gavel.log.rtb-fresh`.
pub fn on_fresh_database(
    runs: &mut Runs,
    db: &str,
    token: &str,
    log_stem: &Path,
    postgres_cpu: &[String],
    args: &Args,
) -> Result<(Value, [Option<u64>; 3]), String> {
    const FRESH: &str = "gavel_bench_rtb";
    psql(db, &format!("DROP DATABASE IF EXISTS {FRESH} WITH (FORCE)"))?;
    psql(db, &format!("CREATE DATABASE {FRESH}"))?;
    let fresh_db = other_database(db, FRESH)?;
    let log = log_stem.with_extension("gavel.log.rtb-fresh");
    // Its own Redis keys too: auction ids start at 1 in either database.
    let g = procs::gavel(free_port(), token, &log, &fresh_db, FRESH)?;
    // Its RSS at the start once it has settled after start-up.
    std::thread::sleep(Duration::from_secs(1));
    let mut a = vec!["--url".to_string(), g.url.clone()];
    a.extend(["--cpu".into(), format!("gavel={}", g.pid())]);
    a.extend(postgres_cpu.iter().cloned());
    let result = run(runs, "rtb-fresh", &a, g.pid(), args);
    drop(g);
    let _ = psql(db, &format!("DROP DATABASE IF EXISTS {FRESH} WITH (FORCE)"));
    result
}

/// `url` with its database name replaced by `name` (any query string kept).
fn other_database(url: &str, name: &str) -> Result<String, String> {
    let (path, query) = url.split_once('?').map_or((url, ""), |(p, q)| (p, q));
    let (server, _) = path
        .rsplit_once('/')
        .filter(|(server, _)| server.contains("://"))
        .ok_or_else(|| "DATABASE_URL names no database".to_string())?;
    Ok(match query {
        "" => format!("{server}/{name}"),
        q => format!("{server}/{name}?{q}"),
    })
}

/// One `rtb` run (its JSON) and gavel's RSS at its start, middle and end.
pub fn run(
    runs: &mut Runs,
    label: &str,
    gavel_args: &[String],
    pid: u32,
    args: &Args,
) -> Result<(Value, [Option<u64>; 3]), String> {
    let start = status_kib(pid, "VmRSS:");
    let secs = args.rtb_seconds;
    let half_way = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs / 2 + 1));
        status_kib(pid, "VmRSS:")
    });
    let rate = args.rtb_rate.to_string();
    let mut a = gavel_args.to_vec();
    a.extend(
        [
            "--workload",
            "rtb",
            "--rate",
            &rate,
            "--connections",
            "256",
            "--bidders",
            "16",
        ]
        .map(String::from),
    );
    let j = runs.loadgen(label, secs, &a)?;
    let mid = half_way.join().unwrap_or(None);
    Ok((j, [start, mid, status_kib(pid, "VmRSS:")]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_another_database_on_the_same_server() {
        let other = |u| super::other_database(u, "x");
        assert_eq!(other("postgres://p@h:5/db").unwrap(), "postgres://p@h:5/x");
        assert_eq!(
            other("postgres://h/db?sslmode=disable").unwrap(),
            "postgres://h/x?sslmode=disable"
        );
        assert!(other("postgres://h:5").is_err());
    }
}
