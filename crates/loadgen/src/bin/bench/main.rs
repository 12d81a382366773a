//! `gavel-bench`: gavel measured against reference floors in one run on this machine
//! (`scripts/bench.sh` builds the release binaries and starts it on private PostgreSQL and
//! Redis, PostgreSQL at its durable settings).
//!
//! It first gives PostgreSQL WAL segments to recycle, as a server in service has them
//! (`wal`), then starts gavel and gavel-hello (the bare HTTP floor), runs the `rtb`
//! rhythm on the fresh database, then alternates rounds of gavel `bids` | `bids-keyed` |
//! pgbench doing one bid per transaction on the same PostgreSQL | hello | `get` | the
//! plain design (gavel-plain), so that every ratio compares runs of one round; then runs
//! once each `bids-hopeless`, `bids-hot`, `list`, `bids` in open loop at half the
//! closed-loop rate (and hello at the same rate), `bids` over two and three gavel
//! instances, 10,000 idle event streams and `rtb` again, on the database every run has
//! written to. Every gavel bid run reports the CPU time per decided bid in gavel and in
//! PostgreSQL.
//! `--check-with-wrk` measures bids, hello and GET with wrk as well, in every round, each
//! wrk run right after gavel-loadgen's of the same workload. It prints a table and the
//! ratios, and writes every run's JSON line to `target/bench/<timestamp>.jsonl`.
//! Everything it starts is stopped when it ends; all load goes to 127.0.0.1.

mod pgbench;
mod procs;
mod rtb;
mod runs;
mod streams;
mod summary;
mod table;
mod wal;
mod wrk;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use clap::Parser;

use procs::{free_port, psql, settle, status_kib, Server};
use runs::Runs;
use summary::{median, num, Figures};

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
    /// Interleaved rounds of bids | keyed bids | pgbench | hello | GET | the plain design.
    #[arg(long, env = "BENCH_ROUNDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
    /// Closed-loop connections and pgbench clients.
    #[arg(long, env = "BENCH_CONNECTIONS", default_value_t = 64)]
    connections: u32,
    /// Warm-up seconds before each measurement (default 2; 1 under 5 measured seconds).
    #[arg(long, env = "BENCH_WARMUP")]
    warmup: Option<u64>,
    /// Idle event streams opened to measure what each holds.
    #[arg(long, env = "BENCH_STREAMS", default_value_t = 10_000)]
    streams: usize,
    /// Seconds of each rtb run (short auctions at a steady rate, notices received).
    #[arg(long, env = "BENCH_RTB_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    rtb_seconds: u64,
    /// Auctions a second in the rtb run.
    #[arg(long, env = "BENCH_RTB_RATE", default_value_t = 1000)]
    rtb_rate: u32,
    /// Also measure bids, GET and hello with wrk, to check gavel-loadgen's figures.
    #[arg(long = "check-with-wrk", env = "BENCH_WRK", default_value_t = false)]
    check_with_wrk: bool,
    /// A long half-rate bids run with RSS sampled (0: off).
    #[arg(long, env = "BENCH_SOAK_SECONDS", default_value_t = 0)]
    soak_seconds: u64,
    /// PostgreSQL (with-services.sh sets it).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
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

    let mut postgres_cpu = Vec::new();
    let data_dir = psql(&db, "SHOW data_directory").unwrap_or_default();
    match std::fs::read_to_string(Path::new(&data_dir).join("postmaster.pid")) {
        Ok(pid) => postgres_cpu.extend(["--cpu".to_string(), format!("postgres={}", pid.lines().next().unwrap_or(""))]),
        Err(_) => eprintln!("bench: warning: PostgreSQL's data directory is not readable here: no CPU figure for it"),
    }
    let mut runs = Runs {
        jsonl: out_dir.join(format!("{stamp}.jsonl")),
        lines: Vec::new(),
        warmup,
        database_url: db.clone(),
    };
    // Before any run: the WAL as a server in service has it (see `wal`). Not fatal: a
    // server the bench may not checkpoint is measured as it is.
    match wal::warm(&db) {
        Ok(n) => eprintln!("bench: PostgreSQL WAL warmed: {n} segment files recycled ahead"),
        Err(e) => eprintln!("bench: warning: could not warm PostgreSQL's WAL ({e}); a fresh cluster stalls commits at each new segment"),
    }
    // The exchange's rhythm first, on a fresh database (again at the end, on the one every
    // run has written to).
    let rtb_fresh = rtb::on_fresh_database(
        &mut runs,
        &db,
        &token,
        &out_dir.join(&stamp),
        &postgres_cpu,
        &args,
    )?;

    let gavel_log = out_dir.join(format!("{stamp}.gavel.log"));
    let gavel = procs::gavel(free_port(), &token, &gavel_log, &db, "gavel")?;
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
    let plain = procs::plain(free_port(), &db, &work.join("plain.log"))?;
    let mut cpu = vec!["--cpu".to_string(), format!("gavel={}", gavel.pid())];
    cpu.extend(postgres_cpu.iter().cloned());
    let durability = psql(
        &db,
        "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' ||
         current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes')",
    )?;
    eprintln!("bench: PostgreSQL: {durability}");
    let pg = pgbench::Fixture::create(&db)?;

    let gavel_args = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["--url".to_string(), gavel.url.clone()];
        a.extend(cpu.iter().cloned());
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let strings = |xs: &[&str]| -> Vec<String> { xs.iter().map(|s| s.to_string()).collect() };
    eprintln!(
        "bench: {} round(s) of {secs}s (+{warmup}s warm-up) each, {conns} connections",
        args.rounds
    );
    // wrk's runs alternate with gavel-loadgen's of the same workload.
    let mut wrk = if args.check_with_wrk {
        Some(wrk::Wrk::prepare(wrk::Setup {
            gavel: &gavel.url,
            hello: &hello.url,
            token: &token,
            secs,
            conns: args.connections,
            work: &work,
            database_url: &db,
        })?)
    } else {
        None
    };
    let (mut bids, mut keyed, mut pgb, mut hellos, mut gets, mut plains) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for r in 1..=args.rounds {
        bids.push(runs.loadgen(
            &format!("bids-r{r}"),
            secs,
            &gavel_args(&["--workload", "bids", "--connections", &conns]),
        )?);
        if let Some(w) = &mut wrk {
            w.bids()?;
        }
        keyed.push(runs.loadgen(
            &format!("bids-keyed-r{r}"),
            secs,
            &gavel_args(&["--workload", "bids-keyed", "--connections", &conns]),
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
        let hello_args = strings(&[
            "--workload",
            "hello",
            "--url",
            &hello.url,
            "--connections",
            &conns,
        ]);
        hellos.push(runs.loadgen(&format!("hello-r{r}"), secs, &hello_args)?);
        if let Some(w) = &mut wrk {
            w.hello()?;
        }
        gets.push(runs.loadgen(
            &format!("get-r{r}"),
            secs,
            &gavel_args(&["--workload", "get", "--connections", &conns]),
        )?);
        if let Some(w) = &mut wrk {
            w.get()?;
        }
        let plain_args = strings(&[
            "--workload",
            "bids",
            "--url",
            &plain.url,
            "--setup-url",
            &gavel.url,
            "--connections",
            &conns,
        ]);
        plains.push(runs.loadgen(&format!("plain-r{r}"), secs, &plain_args)?);
    }
    drop(plain);
    for w in ["bids-hopeless", "bids-hot", "list"] {
        runs.loadgen(
            w,
            secs,
            &gavel_args(&["--workload", w, "--connections", &conns]),
        )?;
    }
    let bids_rps = median(
        bids.iter()
            .map(|j| num(j, &["requests_per_second"]))
            .collect(),
    );
    let half = ((bids_rps / 2.0) as u64).max(1).to_string();
    // Open loop at half the closed-loop rate: the open-loop run and the soak; the floor at
    // the same rate.
    let half_rate = gavel_args(&[
        "--workload",
        "bids",
        "--rate",
        &half,
        "--connections",
        &conns,
    ]);
    let open = runs.loadgen("bids-open", secs, &half_rate)?;
    let hello_open = runs.loadgen(
        "hello-open",
        secs,
        &strings(&[
            "--workload",
            "hello",
            "--url",
            &hello.url,
            "--rate",
            &half,
            "--connections",
            &conns,
        ]),
    )?;

    // The same bids over two and three instances on the one PostgreSQL.
    let (mut extra, mut scale) = (Vec::new(), Vec::new());
    let mut spread = gavel_args(&["--workload", "bids", "--connections", &conns]);
    for n in 2..=3 {
        let g = procs::gavel(
            free_port(),
            &token,
            &out_dir.join(format!("{stamp}.gavel.log.{n}")),
            &db,
            "gavel",
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

    eprintln!("bench: run: idle-streams ({})", args.streams);
    let streams = streams::idle(&gavel.url, &token, gavel.pid(), args.streams)?;
    runs.keep(streams.clone())?;

    let rtb = rtb::run(&mut runs, "rtb", &gavel_args(&[]), gavel.pid(), &args)?;

    let wrk = wrk.map(|w| w.figures());
    if let Some(w) = &wrk {
        runs.keep(w.clone())?;
    }

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

    table::print(&runs.lines);
    let figures = Figures {
        bids,
        pgbench: pgb,
        hello: hellos,
        plain: plains,
        get: gets,
        keyed,
        open,
        hello_open,
        half_rate: half,
        scale,
        streams,
        rtb_fresh,
        rtb,
        wrk,
        durability,
        peak_rss_kib: peak,
        soak,
        soak_seconds: args.soak_seconds,
    };
    let summary = figures.print();
    println!(
        "JSON lines: {}   RSS samples: {}",
        runs.jsonl.display(),
        rss_file.display()
    );
    runs.keep(summary)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
