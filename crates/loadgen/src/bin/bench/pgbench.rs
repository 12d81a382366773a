//! The reference: pgbench running what one bid does, one bid per transaction, on the same
//! PostgreSQL (a conditional update of a random auction's highest, then the insert).

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::procs::{pg_tool, psql};

/// The bid transaction pgbench runs.
const BID_SQL: &str = r#"\set aid random(:aid_lo, :aid_hi)
BEGIN;
UPDATE auctions
   SET highest_amount = COALESCE(highest_amount + min_increment, reserve_price),
       highest_bidder_id = :bidder_id,
       bid_count = bid_count + 1
 WHERE id = :aid AND cancelled_at IS NULL AND closed_at IS NULL
   AND starts_at <= now() AND ends_at > now()
RETURNING highest_amount AS amount \gset
INSERT INTO bids (auction_id, bidder_id, amount) VALUES (:aid, :bidder_id, :amount);
COMMIT;
"#;

/// What pgbench bids on: a bidder and 100 open auctions with consecutive ids.
pub struct Fixture {
    bidder: String,
    lo: String,
    hi: String,
}

impl Fixture {
    /// Creates the bidder and auctions (gavel has migrated the database by now).
    pub fn create(database_url: &str) -> Result<Self, String> {
        let bidder = psql(
            database_url,
            "INSERT INTO bidders (name, api_key_hash, webhook_secret)
             VALUES ('pgbench', decode(md5(random()::text || clock_timestamp()::text), 'hex'), 'pgbench')
             RETURNING id",
        )?;
        let range = psql(
            database_url,
            "WITH a AS (
                 INSERT INTO auctions (title, kind, currency, reserve_price, min_increment,
                                       extend_secs, starts_at, ends_at)
                 SELECT 'pgbench ' || g, 'english', 'USD', 1.00, 0.05, 0, now(),
                        now() + interval '7 days'
                 FROM generate_series(1, 100) g RETURNING id)
             SELECT min(id) || ' ' || max(id) || ' ' || count(*) FROM a",
        )?;
        let parts: Vec<i64> = range.split(' ').filter_map(|p| p.parse().ok()).collect();
        match parts[..] {
            [lo, hi, n] if hi - lo + 1 == n => Ok(Self {
                bidder,
                lo: lo.to_string(),
                hi: hi.to_string(),
            }),
            _ => Err(format!(
                "the pgbench auctions are not consecutive ids: {range}"
            )),
        }
    }
}

/// One pgbench run of `warmup + secs` seconds with `conns` clients; only transactions that
/// end after the warm-up count. The same JSON fields as gavel-loadgen's report.
pub fn run(
    database_url: &str,
    f: &Fixture,
    label: &str,
    conns: u32,
    warmup: u64,
    secs: u64,
    work: &Path,
) -> Result<Value, String> {
    let script = work.join("bid.sql");
    std::fs::write(&script, BID_SQL).map_err(|e| e.to_string())?;
    let prefix = work.join(label);
    let out = Command::new(pg_tool("pgbench"))
        .args(["-n", "-M", "prepared", "-c", &conns.to_string(), "-j", "2"])
        .args(["-T", &(warmup + secs).to_string(), "-f"])
        .arg(&script)
        .args([
            "-D",
            &format!("aid_lo={}", f.lo),
            "-D",
            &format!("aid_hi={}", f.hi),
        ])
        .args(["-D", &format!("bidder_id={}", f.bidder), "-l"])
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(database_url)
        .output()
        .map_err(|e| format!("pgbench: {e}"))?;
    // Each log line: client, transaction, latency (µs), script, end (epoch s, µs).
    let mut txns: Vec<(f64, u64)> = Vec::new();
    for entry in std::fs::read_dir(work)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&format!("{label}.")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for l in text.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if let (Some(lat), Some(s), Some(us)) = (
                f.get(2).and_then(|v| v.parse::<u64>().ok()),
                f.get(4).and_then(|v| v.parse::<f64>().ok()),
                f.get(5).and_then(|v| v.parse::<f64>().ok()),
            ) {
                txns.push((s + us / 1e6, lat));
            }
        }
        let _ = std::fs::remove_file(entry.path());
    }
    let start = txns
        .iter()
        .map(|(end, lat)| end - *lat as f64 / 1e6)
        .fold(f64::INFINITY, f64::min);
    let window = start + warmup as f64;
    let mut lat: Vec<u64> = txns
        .iter()
        .filter(|(e, _)| *e >= window)
        .map(|t| t.1)
        .collect();
    let last = txns.iter().map(|t| t.0).fold(window, f64::max);
    let duration = (last - window).max(0.0);
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len());
        lat[i - 1] as f64 / 1000.0
    };
    let n = lat.len() as u64;
    let tps = if duration > 0.0 {
        (n as f64 / duration * 10.0).round() / 10.0
    } else {
        0.0
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed = stdout
        .lines()
        .find_map(|l| l.split_once("number of failed transactions: "))
        .and_then(|(_, v)| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    if !out.status.success() {
        eprintln!(
            "bench: pgbench exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(json!({
        "label": label, "workload": "pgbench-bid", "mode": "closed", "connections": conns,
        "rate": null, "total_requests": n, "duration_ms": (duration * 1000.0) as u64,
        "requests_per_second": tps, "decided_per_second": tps, "success_count": n,
        "error_count": failed, "success_rate": if n > 0 { 1.0 } else { 0.0 },
        "exit_code": out.status.code(),
        "latency_ms": {"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "p999": q(0.999),
                       "max": lat.last().map_or(0.0, |m| *m as f64 / 1000.0)},
    }))
}
