//! `gavel-bench`: gavel measured against reference floors in one run on this machine
//! (`scripts/bench.sh` builds the release binaries and starts it on private PostgreSQL and
//! Redis, PostgreSQL at its durable settings).
//!
//! It starts gavel and gavel-hello (the bare HTTP floor), then alternates rounds of gavel
//! `bids` | pgbench doing one bid per transaction on the same PostgreSQL | hello, and runs
//! once each `bids-hopeless`, `bids-hot`, `get`, `list`, `bids` in open loop at half the
//! closed-loop rate, and `bids` over two and three gavel instances. Every gavel bid run
//! reports the CPU time per decided bid in gavel and in PostgreSQL. It prints a table and
//! the ratios, and writes every run's JSON line to `target/bench/<timestamp>.jsonl`.
//! Everything it starts is stopped when it ends; all load goes to 127.0.0.1.

mod pgbench;
mod procs;
mod table;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};

use procs::{free_port, psql, settle, status_kib, Server};

/// The bench's knobs.
#[derive(Debug, Parser)]
#[command(
    name = "gavel-bench",
    about = "gavel against its reference floors, in one run"
)]
struct Args {
    /// Measured seconds per run.
    #[arg(long, env = "BENCH_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Interleaved rounds of bids | pgbench | hello.
    #[arg(long, env = "BENCH_ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Closed-loop connections and pgbench clients.
    #[arg(long, env = "BENCH_CONNECTIONS", default_value_t = 64)]
    connections: u32,
    /// Warm-up seconds before each measurement (default 2; 1 under 5 measured seconds).
    #[arg(long, env = "BENCH_WARMUP")]
    warmup: Option<u64>,
    /// A long half-rate bids run with RSS sampled (0: off).
    #[arg(long, env = "BENCH_SOAK_SECONDS", default_value_t = 0)]
    soak_seconds: u64,
    /// PostgreSQL (with-services.sh sets it).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

/// One run's JSON report, kept and printed.
struct Runs {
    jsonl: PathBuf,
    lines: Vec<Value>,
    warmup: u64,
    database_url: String,
}

impl Runs {
    /// Runs gavel-loadgen (after settling the machine) and keeps its JSON line.
    fn loadgen(&mut self, label: &str, seconds: u64, args: &[String]) -> Result<Value, String> {
        settle(&self.database_url);
        eprintln!("bench: run: {label}");
        let out = Command::new("target/release/gavel-loadgen")
            .args(["--label", label, "--seconds", &seconds.to_string()])
            .args(["--warmup-seconds", &self.warmup.to_string()])
            .args(args)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("gavel-loadgen: {e}"))?;
        if !out.status.success() {
            return Err(format!("gavel-loadgen failed on {label}"));
        }
        let line: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        self.keep(line.clone())?;
        Ok(line)
    }

    fn keep(&mut self, line: Value) -> Result<(), String> {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.jsonl)
            .map_err(|e| e.to_string())?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
        self.lines.push(line);
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    match bench(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn num(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_f64()
        .unwrap_or(f64::NAN)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn bench(args: Args) -> Result<(), String> {
    let secs = args.seconds;
    let warmup = args.warmup.unwrap_or(if secs < 5 { 1 } else { 2 });
    let conns = args.connections.to_string();
    let db = args.database_url.clone();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let out_dir = Path::new("target/bench");
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    let work = std::env::temp_dir().join(format!("gavel-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let token: String = (0..48)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect();
    // gavel-loadgen reads the admin token from the environment, never a command line.
    std::env::set_var("GAVEL_ADMIN_TOKEN", &token);

    let gavel_log = out_dir.join(format!("{stamp}.gavel.log"));
    let gavel = procs::gavel(free_port(), &token, &gavel_log)?;
    let rss_file = out_dir.join(format!("{stamp}.rss.tsv"));
    let sampling = procs::sample_rss(gavel.pid(), rss_file.clone());
    let hello_port = free_port();
    let mut hello_cmd = Command::new("target/release/gavel-hello");
    hello_cmd.args(["--port", &hello_port.to_string()]);
    let hello = Server::start(hello_cmd, hello_port, &work.join("hello.log"))?;
    eprintln!(
        "bench: gavel pid {} on {} (log {})",
        gavel.pid(),
        gavel.url,
        gavel_log.display()
    );

    // gavel migrates at start-up: wait for its tables.
    for i in 0.. {
        if psql(&db, "SELECT to_regclass('public.bids') IS NOT NULL").as_deref() == Ok("t") {
            break;
        }
        if i > 600 {
            return Err("gavel did not create its tables within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut cpu = vec!["--cpu".to_string(), format!("gavel={}", gavel.pid())];
    let data_dir = psql(&db, "SHOW data_directory").unwrap_or_default();
    match std::fs::read_to_string(Path::new(&data_dir).join("postmaster.pid")) {
        Ok(pid) => cpu.extend(["--cpu".into(), format!("postgres={}", pid.lines().next().unwrap_or(""))]),
        Err(_) => eprintln!("bench: warning: PostgreSQL's data directory is not readable here: no CPU figure for it"),
    }
    let durability = psql(
        &db,
        "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' ||
         current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes')",
    )?;
    eprintln!("bench: PostgreSQL: {durability}");
    let pg = pgbench::Fixture::create(&db)?;

    let mut runs = Runs {
        jsonl: out_dir.join(format!("{stamp}.jsonl")),
        lines: Vec::new(),
        warmup,
        database_url: db.clone(),
    };
    let gavel_args = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["--url".to_string(), gavel.url.clone()];
        a.extend(cpu.iter().cloned());
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    eprintln!(
        "bench: {} round(s) of {secs}s (+{warmup}s warm-up) each, {conns} connections",
        args.rounds
    );
    let (mut bids, mut pgb, mut hellos) = (Vec::new(), Vec::new(), Vec::new());
    for r in 1..=args.rounds {
        bids.push(runs.loadgen(
            &format!("bids-r{r}"),
            secs,
            &gavel_args(&["--workload", "bids", "--connections", &conns]),
        )?);
        settle(&db);
        eprintln!("bench: run: pgbench-bid-r{r}");
        let p = pgbench::run(
            &db,
            &pg,
            &format!("pgbench-bid-r{r}"),
            args.connections,
            warmup,
            secs,
            &work,
        )?;
        runs.keep(p.clone())?;
        pgb.push(p);
        let hello_args: Vec<String> = [
            "--workload",
            "hello",
            "--url",
            &hello.url,
            "--connections",
            &conns,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        hellos.push(runs.loadgen(&format!("hello-r{r}"), secs, &hello_args)?);
    }
    let (mut get, mut keyed) = (Value::Null, Value::Null);
    for w in ["bids-keyed", "bids-hopeless", "bids-hot", "get", "list"] {
        let j = runs.loadgen(
            w,
            secs,
            &gavel_args(&["--workload", w, "--connections", &conns]),
        )?;
        match w {
            "get" => get = j,
            "bids-keyed" => keyed = j,
            _ => {}
        }
    }
    let bids_rps = median(
        bids.iter()
            .map(|j| num(j, &["requests_per_second"]))
            .collect(),
    );
    let half = ((bids_rps / 2.0) as u64).max(1).to_string();
    // Open loop at half the closed-loop rate: the open-loop run and the soak.
    let half_rate = gavel_args(&[
        "--workload",
        "bids",
        "--rate",
        &half,
        "--connections",
        &conns,
    ]);
    let open = runs.loadgen("bids-open", secs, &half_rate)?;

    // The same bids over two and three instances on the one PostgreSQL.
    let (mut extra, mut scale) = (Vec::new(), Vec::new());
    let mut spread = gavel_args(&["--workload", "bids", "--connections", &conns]);
    for n in 2..=3 {
        let g = procs::gavel(
            free_port(),
            &token,
            &out_dir.join(format!("{stamp}.gavel.log.{n}")),
        )?;
        spread.extend([
            "--cpu".into(),
            format!("gavel={}", g.pid()),
            "--also-url".into(),
            g.url.clone(),
        ]);
        extra.push(g);
        scale.push(runs.loadgen(&format!("bids-x{n}"), secs, &spread)?);
    }
    drop(extra);

    let soak = if args.soak_seconds > 0 {
        eprintln!(
            "bench: soak: bids, open loop at {half}/s for {}s",
            args.soak_seconds
        );
        let before = status_kib(gavel.pid(), "VmRSS:");
        runs.loadgen("soak", args.soak_seconds, &half_rate)?;
        Some((before, status_kib(gavel.pid(), "VmRSS:")))
    } else {
        None
    };
    let peak = status_kib(gavel.pid(), "VmHWM:");
    sampling.store(true, std::sync::atomic::Ordering::Relaxed);

    let m = |xs: &[Value], path: &[&str]| median(xs.iter().map(|j| num(j, path)).collect());
    let (m_bids, m_pg, m_hello) = (
        m(&bids, &["decided_per_second"]),
        m(&pgb, &["requests_per_second"]),
        m(&hellos, &["requests_per_second"]),
    );
    let get_rps = num(&get, &["requests_per_second"]);
    table::print(&runs.lines);
    println!("medians over {} round(s):", args.rounds);
    println!(
        "  gavel bids decided/s   {m_bids:.1}   (p99 {} ms)",
        m(&bids, &["latency_ms", "p99"])
    );
    println!(
        "  CPU per decided bid    gavel {} us, PostgreSQL {} us",
        m(&bids, &["cpu_gavel_us_per_decided"]),
        m(&bids, &["cpu_postgres_us_per_decided"])
    );
    println!(
        "  pgbench one-bid TPS    {m_pg:.1}   (p99 {} ms)",
        m(&pgb, &["latency_ms", "p99"])
    );
    println!(
        "  gavel-hello req/s      {m_hello:.1}   (p99 {} ms)",
        m(&hellos, &["latency_ms", "p99"])
    );
    println!(
        "  gavel GET req/s        {get_rps:.1}   (p99 {} ms)",
        num(&get, &["latency_ms", "p99"])
    );
    println!("ratios:");
    println!(
        "  gavel bids decided/s / pgbench TPS   {:.2}",
        m_bids / m_pg
    );
    println!(
        "  gavel GET req/s / hello req/s        {:.2}",
        get_rps / m_hello
    );
    println!(
        "  keyed bids decided/s / un-keyed      {:.2}",
        num(&keyed, &["decided_per_second"]) / m_bids
    );
    println!(
        "  open-loop bids at {half}/s: p99 {} ms, p99.9 {} ms, errors {}",
        num(&open, &["latency_ms", "p99"]),
        num(&open, &["latency_ms", "p999"]),
        open["error_count"]
    );
    println!(
        "  instances 1/2/3 on one PostgreSQL: bids decided/s {m_bids:.1} / {} / {}",
        num(&scale[0], &["decided_per_second"]),
        num(&scale[1], &["decided_per_second"])
    );
    for j in &scale {
        println!(
            "    {}: CPU per decided bid, all gavels {} us, PostgreSQL {} us",
            j["label"], j["cpu_gavel_us_per_decided"], j["cpu_postgres_us_per_decided"]
        );
    }
    println!("  PostgreSQL             {durability}");
    println!(
        "  gavel peak RSS (VmHWM) {} KiB",
        peak.map_or("?".into(), |p| p.to_string())
    );
    if let Some((before, after)) = soak {
        println!(
            "  soak {}s: RSS before {before:?} KiB, after {after:?} KiB",
            args.soak_seconds
        );
    }
    println!(
        "JSON lines: {}   RSS samples: {}",
        runs.jsonl.display(),
        rss_file.display()
    );
    runs.keep(json!({
        "label": "summary", "seconds": secs, "rounds": args.rounds, "connections": args.connections,
        "median_bids_decided_per_second": m_bids, "median_pgbench_tps": m_pg,
        "median_hello_rps": m_hello, "get_rps": get_rps, "ratio_bids_to_pgbench": m_bids / m_pg,
        "ratio_get_to_hello": get_rps / m_hello, "open_loop_rate": half,
        "ratio_keyed_to_unkeyed": num(&keyed, &["decided_per_second"]) / m_bids,
        "open_loop_p99_ms": num(&open, &["latency_ms", "p99"]), "peak_rss_kib": peak,
        "durability": durability,
    }))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
