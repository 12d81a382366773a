//! The bench's medians and ratios, printed and kept as the run's last JSON line.

use serde_json::{json, Value};

/// Every run the summary reads.
pub struct Figures {
    /// Interleaved rounds: gavel bids, keyed bids, pgbench, hello, GET, the plain design's
    /// bids.
    pub bids: Vec<Value>,
    pub keyed: Vec<Value>,
    pub pgbench: Vec<Value>,
    pub hello: Vec<Value>,
    pub get: Vec<Value>,
    pub plain: Vec<Value>,
    /// Open loop at half the closed-loop rate: gavel bids and the hello floor.
    pub open: Value,
    pub hello_open: Value,
    pub half_rate: String,
    /// Two and three instances.
    pub scale: Vec<Value>,
    pub streams: Value,
    /// The rtb runs, first on the fresh database, then at the end, each with gavel's RSS
    /// (KiB) at its start, middle and end.
    pub rtb_fresh: (Value, [Option<u64>; 3]),
    pub rtb: (Value, [Option<u64>; 3]),
    pub wrk: Option<Value>,
    pub durability: String,
    pub peak_rss_kib: Option<u64>,
    pub soak: Option<(Option<u64>, Option<u64>)>,
    pub soak_seconds: u64,
}

pub fn num(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_f64()
        .unwrap_or(f64::NAN)
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// Each round's ratio of `xs` to `refs` (runs of the same round) in `field`.
fn per_round(xs: &[Value], refs: &[Value], field: &str) -> Vec<f64> {
    xs.iter()
        .zip(refs)
        .map(|(a, b)| num(a, &[field]) / num(b, &[field]))
        .collect()
}

fn m(xs: &[Value], path: &[&str]) -> f64 {
    median(xs.iter().map(|j| num(j, path)).collect())
}

impl Figures {
    /// Prints the medians and ratios; returns them as the summary JSON line.
    pub fn print(&self) -> Value {
        let f = self;
        let (m_bids, m_pg, m_hello, m_plain) = (
            m(&f.bids, &["decided_per_second"]),
            m(&f.pgbench, &["requests_per_second"]),
            m(&f.hello, &["requests_per_second"]),
            m(&f.plain, &["decided_per_second"]),
        );
        let (p99_bids, p99_plain) = (
            m(&f.bids, &["latency_ms", "p99"]),
            m(&f.plain, &["latency_ms", "p99"]),
        );
        let get_rps = m(&f.get, &["requests_per_second"]);
        let keyed = m(&f.keyed, &["decided_per_second"]);
        println!("medians over {} round(s):", f.bids.len());
        println!("  gavel bids decided/s   {m_bids:.1}   (p99 {p99_bids} ms)");
        println!(
            "  CPU per decided bid    gavel {} us, PostgreSQL {} us",
            m(&f.bids, &["cpu_gavel_us_per_decided"]),
            m(&f.bids, &["cpu_postgres_us_per_decided"])
        );
        println!(
            "  pgbench one-bid TPS    {m_pg:.1}   (p99 {} ms)",
            m(&f.pgbench, &["latency_ms", "p99"])
        );
        println!("  plain design bids/s    {m_plain:.1}   (p99 {p99_plain} ms)");
        println!(
            "  gavel-hello req/s      {m_hello:.1}   (p99 {} ms)",
            m(&f.hello, &["latency_ms", "p99"])
        );
        println!(
            "  gavel GET req/s        {get_rps:.1}   (p99 {} ms)",
            m(&f.get, &["latency_ms", "p99"])
        );
        println!(
            "  keyed bids decided/s   {keyed:.1}   (p99 {} ms; CPU per bid gavel {} us, PostgreSQL {} us)",
            m(&f.keyed, &["latency_ms", "p99"]),
            m(&f.keyed, &["cpu_gavel_us_per_decided"]),
            m(&f.keyed, &["cpu_postgres_us_per_decided"])
        );
        println!("ratios:");
        println!(
            "  gavel bids decided/s / pgbench TPS   {:.2}",
            m_bids / m_pg
        );
        println!(
            "  gavel bid p99 / plain design p99     {:.2}",
            p99_bids / p99_plain
        );
        let get_rounds = per_round(&f.get, &f.hello, "requests_per_second");
        let keyed_rounds = per_round(&f.keyed, &f.bids, "decided_per_second");
        println!(
            "  gavel GET req/s / hello req/s        {:.2}   (rounds {get_rounds:.2?})",
            get_rps / m_hello
        );
        println!(
            "  keyed bids decided/s / un-keyed      {:.2}   (rounds {keyed_rounds:.2?})",
            keyed / m_bids
        );
        println!(
            "  open loop at {}/s: gavel bids p99 {} ms (p99.9 {} ms, errors {}); hello p99 {} ms",
            f.half_rate,
            num(&f.open, &["latency_ms", "p99"]),
            num(&f.open, &["latency_ms", "p999"]),
            f.open["error_count"],
            num(&f.hello_open, &["latency_ms", "p99"]),
        );
        println!(
            "  instances 1/2/3 on one PostgreSQL: bids decided/s {m_bids:.1} / {} / {}",
            num(&f.scale[0], &["decided_per_second"]),
            num(&f.scale[1], &["decided_per_second"])
        );
        for j in &f.scale {
            println!(
                "    {}: CPU per decided bid, all gavels {} us, PostgreSQL {} us",
                j["label"], j["cpu_gavel_us_per_decided"], j["cpu_postgres_us_per_decided"]
            );
        }
        println!(
            "  idle streams: {} open, {:.1} KiB each",
            f.streams["streams"],
            num(&f.streams, &["kib_per_stream"])
        );
        for (when, (j, rss)) in [
            ("on the fresh database", &f.rtb_fresh),
            ("at the end", &f.rtb),
        ] {
            println!(
                "  rtb {when}: {} auctions/s scheduled, {} achieved ({} bids each): settlement lag p50 {} ms, p99 {} ms; notices p99 {} ms after the end, {} auctions without notice; RSS start/middle/end {rss:?} KiB",
                j["auctions_per_second"],
                j["achieved_auctions_per_second"],
                j["bids_per_auction"],
                num(j, &["settlement_lag_ms", "p50"]),
                num(j, &["settlement_lag_ms", "p99"]),
                num(j, &["notice_lag_ms", "p99"]),
                j["auctions_without_notice"],
            );
        }
        if let Some(w) = &f.wrk {
            println!("  wrk against gavel-loadgen (same workload, runs alternated; medians):");
            for (name, ours) in [("bids", m_bids), ("get", get_rps), ("hello", m_hello)] {
                let theirs = num(w, &[name, "decided_per_second"]);
                println!(
                    "    {name:<6} wrk {theirs:.1}/s, gavel-loadgen {ours:.1}/s: {:.2}",
                    theirs / ours
                );
            }
        }
        println!("  PostgreSQL             {}", f.durability);
        println!(
            "  gavel peak RSS (VmHWM) {} KiB",
            f.peak_rss_kib.map_or("?".into(), |p| p.to_string())
        );
        if let Some((before, after)) = f.soak {
            println!(
                "  soak {}s: RSS before {before:?} KiB, after {after:?} KiB",
                f.soak_seconds
            );
        }
        json!({
            "label": "summary", "rounds": f.bids.len(),
            "median_bids_decided_per_second": m_bids, "median_pgbench_tps": m_pg,
            "median_plain_decided_per_second": m_plain, "median_hello_rps": m_hello,
            "get_rps": get_rps, "ratio_bids_to_pgbench": m_bids / m_pg,
            "ratio_bid_p99_to_plain": p99_bids / p99_plain,
            "ratio_get_to_hello": get_rps / m_hello, "open_loop_rate": f.half_rate,
            "ratio_get_to_hello_rounds": get_rounds,
            "median_keyed_decided_per_second": keyed,
            "ratio_keyed_to_unkeyed": keyed / m_bids,
            "ratio_keyed_to_unkeyed_rounds": keyed_rounds,
            "open_loop_p99_ms": num(&f.open, &["latency_ms", "p99"]),
            "hello_open_loop_p99_ms": num(&f.hello_open, &["latency_ms", "p99"]),
            "idle_stream_kib": num(&f.streams, &["kib_per_stream"]),
            "rtb_fresh_settlement_p99_ms": num(&f.rtb_fresh.0, &["settlement_lag_ms", "p99"]),
            "rtb_fresh_notice_p99_ms": num(&f.rtb_fresh.0, &["notice_lag_ms", "p99"]),
            "rtb_fresh_rss_kib": f.rtb_fresh.1,
            "rtb_settlement_p99_ms": num(&f.rtb.0, &["settlement_lag_ms", "p99"]),
            "rtb_notice_p99_ms": num(&f.rtb.0, &["notice_lag_ms", "p99"]),
            "rtb_rss_kib": f.rtb.1, "wrk": f.wrk,
            "peak_rss_kib": f.peak_rss_kib, "durability": f.durability,
        })
    }
}
