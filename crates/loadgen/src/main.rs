//! `gavel-loadgen`: closed- or open-loop HTTP load against a running gavel (bids, reads)
//! or gavel-hello (the HTTP floor), with latencies in HDR histograms.
//!
//! It talks only to the URL it is given (loopback in scripts/bench.sh) and stops by
//! itself after the warm-up and `--seconds`. One JSON object goes to stdout, a table to
//! stderr.

mod amounts;
mod cli;
mod conn;
mod cpu;
mod driver;
mod progress;
mod report;
mod rtb;
mod schedule;
mod setup;
mod table;
mod workloads;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::cli::{Args, Workload};
use crate::progress::Progress;
use crate::report::RunInfo;
use crate::schedule::Window;
use crate::workloads::Target;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gavel-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    args.validate()?;
    // Set-up and `rtb` (the measured loops keep their own connections: `conn`).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections as usize)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs_f64(args.timeout_seconds))
        .build()
        .map_err(|e| e.to_string())?;
    let ready_path = match args.workload {
        Workload::Hello => "/hello",
        _ => "/ready",
    };
    setup::wait_ready(&client, &args.url, ready_path).await?;
    if args.setup_url.is_some() {
        setup::wait_ready(&client, args.setup_url(), "/ready").await?;
    }
    if args.workload == Workload::Rtb {
        let summary = rtb::run(client, &args).await?;
        eprintln!("{summary:#}");
        println!("{summary}");
        return Ok(());
    }
    let fixture = setup::prepare(&client, &args).await?;
    let ack_log = match &args.ack_log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let target = Arc::new(
        Target::new(args.workload, &args.url, &fixture)?
            .spread_over(&args.also_urls)?
            .with_deadline(args.deadline_ms)
            .logging_to(ack_log),
    );

    let window = Window::starting_now(args.warmup(), args.measured());
    let cpu = tokio::spawn(cpu::measure(args.cpu.clone(), window));
    let progress = Progress::start(window, &args.label);
    let timeout = Duration::from_secs_f64(args.timeout_seconds);
    let outcome = match args.rate {
        None => driver::closed_loop(target, args.connections, timeout, window, &progress).await,
        Some(rate) => {
            driver::open_loop(target, rate, args.connections, timeout, window, &progress).await
        }
    };
    progress.finish();
    let outcome = outcome?;
    if outcome.max_send_lag > Duration::from_millis(5) {
        eprintln!(
            "gavel-loadgen: warning: sends ran up to {:.1} ms behind schedule \
             (generator short of CPU, or answers slower than --connections can carry); latencies still count from \
             the schedule",
            outcome.max_send_lag.as_secs_f64() * 1000.0
        );
    }
    let info = RunInfo {
        label: args.label.clone(),
        workload: args.workload,
        connections: args.connections,
        rate: args.rate,
        duration: outcome.duration,
        max_send_lag: args.rate.map(|_| outcome.max_send_lag),
    };
    let mut summary = report::summarize(&info, &outcome.recorder);
    if !args.cpu.is_empty() {
        let used = cpu.await.map_err(|e| e.to_string())?;
        let decided = summary["decided_count"].as_u64().unwrap_or(0);
        cpu::report(&mut summary, &used, decided);
    }
    eprint!("{}", table::render(&summary));
    println!("{summary}");
    Ok(())
}
